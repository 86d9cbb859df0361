import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import jwt from 'jsonwebtoken';
import { LOCAL_SECRET_FILE } from '../config/local-secret.js';
import { CliError, EXIT } from './cli-error.js';

const KNOWN_ROLES = ['admin', 'user'];

/** `cronwarden token`: an HS256 token for the API, signed with the daemon's JWT_SECRET (as `npm run token`). */
export function tokenCommand(env: NodeJS.ProcessEnv, cwd: string): Command {
  return new Command('token')
    .description("print an HS256 token for the API, signed with JWT_SECRET (or the embedded daemon's generated secret)")
    .option('--sub <subject>', "the caller's id; it owns the jobs it creates", 'admin')
    .option('--roles <list>', 'comma-separated roles: admin, user', 'admin')
    .option('--ttl <duration>', 'lifetime such as 90s, 30m, 12h, 7d', '1h')
    .addHelpText('after', '\nEnvironment: JWT_SECRET (default: $CRONWARDEN_DATA_DIR/jwt-secret, which a daemon on the embedded\ndatabase generates when JWT_SECRET is unset); JWT_ISSUER and JWT_AUDIENCE add iss and aud.')
    .action((options: { sub: string; roles: string; ttl: string }) => {
      process.stdout.write(`${signToken(options, env, cwd)}\n`);
    });
}

/** Signs the token; fails with a config error when there is no secret to sign with. */
export function signToken(options: { sub: string; roles: string; ttl: string }, env: NodeJS.ProcessEnv, cwd: string): string {
  const secret = env.JWT_SECRET?.trim() || localSecret(env, cwd);
  if (!secret) {
    const why = env.JWT_PUBLIC_KEY?.trim()
      ? 'the daemon verifies tokens with JWT_PUBLIC_KEY: sign them with the matching private key (your identity provider)'
      : 'JWT_SECRET is not set: export the secret the daemon uses';
    throw new CliError(why, EXIT.config);
  }
  if (!options.sub.trim()) throw new CliError('--sub must not be empty', EXIT.usage);
  const roles = options.roles.split(/[\s,]+/).filter(Boolean);
  const unknown = roles.filter((role) => !KNOWN_ROLES.includes(role));
  if (unknown.length > 0) process.stderr.write(`cronwarden: warning: the daemon ignores roles other than ${KNOWN_ROLES.join(' and ')}: ${unknown.join(', ')}\n`);
  const signOptions: jwt.SignOptions = { algorithm: 'HS256', subject: options.sub, expiresIn: options.ttl as jwt.SignOptions['expiresIn'] };
  if (env.JWT_ISSUER?.trim()) signOptions.issuer = env.JWT_ISSUER.trim();
  if (env.JWT_AUDIENCE?.trim()) signOptions.audience = env.JWT_AUDIENCE.trim();
  try {
    return jwt.sign({ roles }, secret, signOptions);
  } catch (error) {
    throw new CliError(`${(error as Error).message} (--ttl ${options.ttl})`, EXIT.usage);
  }
}

/** The secret a daemon on the embedded database generated for itself (see withLocalSecret). */
function localSecret(env: NodeJS.ProcessEnv, cwd: string): string {
  const dataDir = resolve(cwd, env.CRONWARDEN_DATA_DIR?.trim() || './data');
  try {
    return readFileSync(join(dataDir, LOCAL_SECRET_FILE), 'utf8').trim();
  } catch {
    return '';
  }
}
