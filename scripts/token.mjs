#!/usr/bin/env node
// Prints an HS256 token for the cronwarden API, signed with JWT_SECRET from the environment.
// Usage: npm run token -- --sub alice --roles user --ttl 12h
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import jwt from 'jsonwebtoken';

const USAGE = `Usage: npm run token -- [--sub <subject>] [--roles <role,role>] [--ttl <duration>]

Prints an HS256 JWT for the cronwarden API, signed with JWT_SECRET.

  --sub    the caller's id, becomes the owner of jobs it creates   (default: admin)
  --roles  comma-separated roles: admin, user                     (default: admin)
  --ttl    lifetime such as 90s, 30m, 12h, 7d                      (default: 1h)
  --help   print this text

Environment: JWT_SECRET (default: the secret the daemon generated in $CRONWARDEN_DATA_DIR/jwt-secret
when it runs on the embedded database without one); JWT_ISSUER and JWT_AUDIENCE add iss/aud when set.`;

function fail(message) {
  process.stderr.write(`token: ${message}\n`);
  process.exit(1);
}

function readOptions() {
  try {
    return parseArgs({
      options: {
        sub: { type: 'string', default: 'admin' },
        roles: { type: 'string', default: 'admin' },
        ttl: { type: 'string', default: '1h' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    return fail(`${error.message}\n\n${USAGE}`);
  }
}

/** The secret a single embedded-database daemon generated for itself (src/config/local-secret.ts). */
function localSecret() {
  const dataDir = resolve(process.env.CRONWARDEN_DATA_DIR || './data');
  try {
    return readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim();
  } catch {
    return '';
  }
}

const options = readOptions();
if (options.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const secret = process.env.JWT_SECRET || localSecret();
if (!secret) fail('JWT_SECRET is not set; export the secret the daemon uses');
if (!options.sub.trim()) fail('--sub must not be empty');
const roles = options.roles.split(/[\s,]+/).filter(Boolean);

const signOptions = { algorithm: 'HS256', subject: options.sub, expiresIn: options.ttl };
if (process.env.JWT_ISSUER) signOptions.issuer = process.env.JWT_ISSUER;
if (process.env.JWT_AUDIENCE) signOptions.audience = process.env.JWT_AUDIENCE;

try {
  process.stdout.write(`${jwt.sign({ roles }, secret, signOptions)}\n`);
} catch (error) {
  fail(`${error.message} (--ttl ${options.ttl})`);
}
