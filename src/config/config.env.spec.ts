import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnv } from './config.env.js';
import type { ConfigProblem } from './config.loader.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123';
const pem = (type: 'rsa' | 'ec', curve = 'P-256') =>
  (type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: curve }));
const RSA = pem('rsa');
const RSA_PUBLIC = RSA.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const EC384_PUBLIC = pem('ec', 'P-384').publicKey.export({ type: 'spki', format: 'pem' }).toString();

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cronwarden-env-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Reads `env` and returns the result with the problems found. */
function read(env: NodeJS.ProcessEnv) {
  const problems: ConfigProblem[] = [];
  return { config: readEnv(env, dir, problems), problems };
}

describe('readEnv', () => {
  it('fills the defaults: embedded database, port 8000, ./data made absolute, info logs, HS256', () => {
    const { config, problems } = read({ JWT_SECRET: SECRET, DATABASE_URL: '' });
    expect(problems).toEqual([]);
    expect(config).toEqual({
      databaseUrl: null, port: 8000, dataDir: join(dir, 'data'), logLevel: 'info',
      jwt: { secret: SECRET, publicKey: null, algorithms: ['HS256'], issuer: null, audience: null },
    });
  });

  it('takes the deployment facts it is given', () => {
    const env = { JWT_SECRET: SECRET, DATABASE_URL: 'postgresql://u@db/cw', PORT: '0', CRONWARDEN_DATA_DIR: '/var/lib/cw', LOG_LEVEL: 'DEBUG', JWT_ISSUER: 'idp', JWT_AUDIENCE: 'cw' };
    const { config, problems } = read(env);
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ databaseUrl: 'postgresql://u@db/cw', port: 0, dataDir: '/var/lib/cw', logLevel: 'debug', jwt: { issuer: 'idp', audience: 'cw' } });
  });

  it('pins RS256 for an RSA public key read from a file named relative to cwd', () => {
    writeFileSync(join(dir, 'jwt.pem'), RSA_PUBLIC);
    const { config, problems } = read({ JWT_PUBLIC_KEY: 'jwt.pem' });
    expect(problems).toEqual([]);
    expect(config.jwt).toMatchObject({ secret: null, publicKey: RSA_PUBLIC, algorithms: ['RS256'] });
  });

  it('pins the ES algorithm of the EC key curve, from PEM text on one line with \\n escapes', () => {
    const { config, problems } = read({ JWT_PUBLIC_KEY: EC384_PUBLIC.replace(/\n/g, '\\n') });
    expect(problems).toEqual([]);
    expect(config.jwt).toMatchObject({ publicKey: EC384_PUBLIC, algorithms: ['ES384'] });
  });

  it.each<[string, NodeJS.ProcessEnv, string, string]>([
    ['no secret and no public key', {}, 'env.JWT_SECRET', 'JWT_SECRET (HS256 shared secret) or JWT_PUBLIC_KEY (RS256/ES256 public key) is required'],
    ['a short secret', { JWT_SECRET: 'hunter2' }, 'env.JWT_SECRET', 'must be at least 32 characters (it has 7)'],
    ['an RS algorithm with only a secret', { JWT_SECRET: SECRET, JWT_ALGORITHMS: 'HS256,RS256' }, 'env.JWT_ALGORITHMS', 'RS256 does not work with JWT_SECRET'],
    ['an HS algorithm with a public key', { JWT_PUBLIC_KEY: RSA_PUBLIC, JWT_ALGORITHMS: 'HS256' }, 'env.JWT_ALGORITHMS', 'HS256 is not allowed with JWT_PUBLIC_KEY'],
    ['an algorithm that does not fit the key', { JWT_PUBLIC_KEY: EC384_PUBLIC, JWT_ALGORITHMS: 'ES256' }, 'env.JWT_ALGORITHMS', 'ES256 does not fit this ec public key; use ES384'],
    ['both a secret and a public key', { JWT_SECRET: SECRET, JWT_PUBLIC_KEY: RSA_PUBLIC }, 'env.JWT_PUBLIC_KEY', 'set only one of JWT_SECRET'],
    ['a key file that does not exist', { JWT_PUBLIC_KEY: 'keys/missing.pem' }, 'env.JWT_PUBLIC_KEY', 'is neither PEM text nor a readable file: ENOENT'],
    ['a private key', { JWT_PUBLIC_KEY: RSA.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }, 'env.JWT_PUBLIC_KEY', 'holds a private key'],
    ['PEM text that is not a key', { JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n' }, 'env.JWT_PUBLIC_KEY', 'is not a PEM public key'],
    ['a port out of range', { JWT_SECRET: SECRET, PORT: '65536' }, 'env.PORT', 'must be a port number from 0 to 65535, not "65536"'],
    ['a port that is not a number', { JWT_SECRET: SECRET, PORT: 'http' }, 'env.PORT', 'not "http"'],
    ['an unknown log level', { JWT_SECRET: SECRET, LOG_LEVEL: 'trace' }, 'env.LOG_LEVEL', 'must be one of error, warn, info, debug, verbose, not "trace"'],
  ])('reports %s', (_, env, path, message) => {
    const { problems } = read(env);
    expect(problems).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('reports a database URL that is not PostgreSQL without echoing it, since it may hold a password', () => {
    const { problems } = read({ JWT_SECRET: SECRET, DATABASE_URL: 'mysql://root:s3cret@db/cw' });
    expect(problems).toEqual([{ path: 'env.DATABASE_URL', message: expect.stringContaining('must start with postgres://') }]);
    expect(problems[0].message).not.toContain('s3cret');
  });

  it('never echoes a short secret in its problem', () => {
    const { problems } = read({ JWT_SECRET: 'hunter2' });
    expect(problems[0].message).not.toContain('hunter2');
  });
});
