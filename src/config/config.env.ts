/**
 * The deployment facts and secrets that come from the environment rather than the file. Problems
 * sit at `env.<NAME>` and never echo a secret or a database URL (it may carry a password).
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigProblem } from './config.loader.js';
import type { EnvConfig, JwtConfig } from './config.types.js';

const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'verbose'];
const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGORITHM_BY_CURVE: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
// HS256 is only as strong as its secret; a short one can be brute-forced offline from any token.
const MIN_SECRET_LENGTH = 32;

/**
 * Reads the environment part of the configuration. Relative paths (`CRONWARDEN_DATA_DIR`, a
 * `JWT_PUBLIC_KEY` file) are resolved against `cwd`. An empty variable counts as unset.
 */
export function readEnv(env: NodeJS.ProcessEnv, cwd: string, problems: ConfigProblem[]): EnvConfig {
  const report = (name: string, message: string): void => void problems.push({ path: `env.${name}`, message });
  const get = (name: string): string | null => (env[name] === undefined || env[name].trim() === '' ? null : env[name]);

  const databaseUrl = get('DATABASE_URL');
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    report('DATABASE_URL', 'must start with postgres:// or postgresql:// (or be unset for the embedded database)');
  }
  const portText = get('PORT')?.trim() ?? '8000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65_535) report('PORT', `must be a port number from 0 to 65535, not "${portText}"`);
  const logLevel = get('LOG_LEVEL')?.trim().toLowerCase() ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) report('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, not "${logLevel}"`);

  return {
    databaseUrl,
    jwt: readJwt(get, cwd, report),
    port: Number.isInteger(port) ? port : 8000,
    dataDir: resolve(cwd, get('CRONWARDEN_DATA_DIR') ?? './data'),
    logLevel,
  };
}

type Get = (name: string) => string | null;
type Report = (name: string, message: string) => void;

/** The token verification settings: a shared secret or a public key, and the algorithms pinned for it. */
function readJwt(get: Get, cwd: string, report: Report): JwtConfig {
  const secret = get('JWT_SECRET');
  const keyText = get('JWT_PUBLIC_KEY');
  const issuer = get('JWT_ISSUER');
  const audience = get('JWT_AUDIENCE');
  const listed = get('JWT_ALGORITHMS')?.split(',').map((name) => name.trim()).filter(Boolean) ?? [];
  const requested = listed.length > 0 ? listed : null;

  if (secret !== null && keyText !== null) {
    report('JWT_PUBLIC_KEY', 'set only one of JWT_SECRET (HS256) and JWT_PUBLIC_KEY (RS256/ES256), not both');
  }
  if (keyText !== null) {
    for (const name of requested?.filter((name) => HMAC_ALGORITHMS.includes(name)) ?? []) {
      // With HS* the public key would be used as a shared secret, so anyone holding it could sign tokens.
      report('JWT_ALGORITHMS', `${name} is not allowed with JWT_PUBLIC_KEY; it would let anyone with the public key sign tokens`);
    }
    const key = loadPublicKey(keyText, cwd, report);
    const algorithms = key ? checkKeyAlgorithms(key.object, requested, report) : [];
    return { secret: null, publicKey: key?.pem ?? null, algorithms, issuer, audience };
  }
  if (secret === null) {
    report('JWT_SECRET', 'JWT_SECRET (HS256 shared secret) or JWT_PUBLIC_KEY (RS256/ES256 public key) is required');
    return { secret: null, publicKey: null, algorithms: [], issuer, audience };
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    report('JWT_SECRET', `must be at least ${MIN_SECRET_LENGTH} characters (it has ${secret.length}); a short HS256 secret can be brute-forced`);
  }
  const algorithms = requested ?? ['HS256'];
  for (const name of algorithms.filter((name) => !HMAC_ALGORITHMS.includes(name))) {
    report('JWT_ALGORITHMS', `${name} does not work with JWT_SECRET; use ${HMAC_ALGORITHMS.join(', ')} or set JWT_PUBLIC_KEY instead`);
  }
  return { secret, publicKey: null, algorithms, issuer, audience };
}

/** Reads the key from PEM text or from the file it names, and checks that it is a public key. */
function loadPublicKey(text: string, cwd: string, report: Report): { pem: string; object: KeyObject } | null {
  let pem = text;
  if (!text.trimStart().startsWith('-----BEGIN')) {
    const file = resolve(cwd, text.trim());
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      report('JWT_PUBLIC_KEY', `is neither PEM text nor a readable file: ${(error as Error).message}`);
      return null;
    }
  } else if (!text.includes('\n')) {
    // Container env files often carry a PEM on one line with literal "\n" separators.
    pem = text.replace(/\\n/g, '\n');
  }
  if (/PRIVATE KEY/.test(pem)) {
    report('JWT_PUBLIC_KEY', 'holds a private key; give the daemon only the public key');
    return null;
  }
  try {
    return { pem, object: createPublicKey(pem) };
  } catch (error) {
    report('JWT_PUBLIC_KEY', `is not a PEM public key: ${(error as Error).message}`);
    return null;
  }
}

/** Pins the algorithms to the key: RSA keys take RS* or PS*, an EC key the ES* of its curve (HS* is reported by the caller). */
function checkKeyAlgorithms(key: KeyObject, requested: string[] | null, report: Report): string[] {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const ecAlgorithm = key.asymmetricKeyType === 'ec' && curve ? EC_ALGORITHM_BY_CURVE[curve] : undefined;
  const fitting = key.asymmetricKeyType === 'rsa' ? RSA_ALGORITHMS : ecAlgorithm ? [ecAlgorithm] : [];
  if (fitting.length === 0) {
    const kind = curve ? `${key.asymmetricKeyType} (${curve})` : key.asymmetricKeyType;
    report('JWT_PUBLIC_KEY', `is a ${kind} key; use an RSA key or an EC key on P-256, P-384 or P-521`);
    return [];
  }
  const algorithms = requested ?? [fitting[0]];
  for (const name of algorithms.filter((name) => !HMAC_ALGORITHMS.includes(name) && !fitting.includes(name))) {
    report('JWT_ALGORITHMS', `${name} does not fit this ${key.asymmetricKeyType} public key; use ${fitting.join(', ')}`);
  }
  return algorithms;
}
