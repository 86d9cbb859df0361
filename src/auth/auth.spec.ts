import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import jwt from 'jsonwebtoken';
import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ConfigModule } from '../config/config.module.js';
import type { CronwardenConfig, JwtConfig } from '../config/config.types.js';
import { CurrentCaller, Public } from './auth.decorators.js';
import { AuthModule } from './auth.module.js';
import type { Caller } from './caller.js';
import { CLOCK_TOLERANCE_SECONDS } from './jwt.strategy.js';
import { httpAdapter } from '../common/http-app.js';

// End to end over a real socket: a tiny Nest app behind AuthModule, hit with fetch.
// Each describe starts its own app and closes it before the next starts: passport keeps
// strategies in one process-wide registry, so two live apps would share the last one.

@Controller('api/probe')
class ProbeController {
  @Get('me')
  me(@CurrentCaller() caller: Caller): Caller {
    return caller;
  }

  @Public()
  @Get('open')
  open(): { ok: true } {
    return { ok: true };
  }
}

function configWithJwt(jwtConfig: Partial<JwtConfig>): CronwardenConfig {
  return {
    file: '/dev/null',
    daemon: { maxConcurrentRuns: 1, shutdownGraceMs: 1000, nodeTimeoutMs: 30_000, heartbeatIntervalMs: 5000, pollIntervalMs: 1000, queueTimeoutMs: 3_600_000, maxClockSkewMs: 2_000, keepRuns: 1_000, keepOutputForMs: 86_400_000, rateLimit: { limit: 3000, windowMs: 60_000 } },
    pipelines: new Map(),
    jobs: new Map(),
    env: {
      databaseUrl: null,
      jwt: { secret: null, publicKey: null, algorithms: ['HS256'], issuer: null, audience: null, ...jwtConfig },
      port: 0,
      dataDir: '/tmp',
      logLevel: 'error',
    },
  };
}

interface Reply { status: number; body: Record<string, unknown> }

/** Starts the probe app for one describe block; `get` sends a bearer token when given one. */
function probeApp(jwtConfig: Partial<JwtConfig>): { get: (token?: string, path?: string, scheme?: string) => Promise<Reply> } {
  let close: () => Promise<void>;
  let url: string;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(configWithJwt(jwtConfig)), AuthModule],
      controllers: [ProbeController],
    }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(httpAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    close = () => app.close();
  });
  afterAll(() => close());
  return {
    async get(token, path = '/api/probe/me', scheme = 'Bearer') {
      const headers: Record<string, string> = token === undefined ? {} : { authorization: `${scheme} ${token}` };
      const response = await fetch(`${url}${path}`, { headers });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
  };
}

const now = (): number => Math.floor(Date.now() / 1000);

/** A token built by hand, past jsonwebtoken's signing checks: unsigned without `hmacKey`. */
function forgeToken(header: object, payload: object, hmacKey?: string): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  const signature = hmacKey === undefined ? '' : createHmac('sha256', hmacKey).update(input).digest('base64url');
  return `${input}.${signature}`;
}

const SECRET = 'test-secret-that-is-long-enough-for-hs256';
const hs256 = (payload: object, secret = SECRET): string => jwt.sign(payload, secret, { algorithm: 'HS256' });
const alice = { sub: 'alice', roles: ['user'] };

describe('an HS256-configured API', () => {
  const api = probeApp({ secret: SECRET, algorithms: ['HS256'] });

  it('answers 401 naming the missing token when no token is sent', async () => {
    expect(await api.get()).toEqual({ status: 401, body: expect.objectContaining({ statusCode: 401, message: 'missing bearer token' }) });
  });

  it('answers 401 when the Authorization header uses another scheme', async () => {
    expect((await api.get(hs256({ ...alice, exp: now() + 60 }), undefined, 'Basic')).status).toBe(401);
  });

  it('answers 401 to a garbage token', async () => {
    expect(await api.get('not-a-jwt')).toMatchObject({ status: 401, body: { message: 'malformed token' } });
  });

  it('answers 401 naming the signature when the token was signed with another secret', async () => {
    const token = hs256({ ...alice, exp: now() + 60 }, 'some-other-secret');
    expect(await api.get(token)).toMatchObject({ status: 401, body: { message: 'invalid signature' } });
  });

  it('answers 401 to an unsigned alg:none token', async () => {
    const token = forgeToken({ alg: 'none', typ: 'JWT' }, { ...alice, exp: now() + 60 });
    expect(await api.get(token)).toMatchObject({ status: 401, body: { message: 'token algorithm not allowed' } });
  });

  it('answers 401 naming the expiry when the token expired beyond the clock tolerance', async () => {
    expect(await api.get(hs256({ ...alice, exp: now() - 120 }))).toMatchObject({ status: 401, body: { message: 'token expired' } });
  });

  it('accepts a token that expired within the 30 s clock tolerance', async () => {
    expect((await api.get(hs256({ ...alice, exp: now() - 10 }))).status).toBe(200);
  });

  it('answers 401 to a token without an exp claim', async () => {
    expect(await api.get(hs256(alice))).toMatchObject({ status: 401, body: { message: 'token has no expiry (exp claim)' } });
  });

  it('answers 401 to a token whose nbf is in the future', async () => {
    const token = hs256({ ...alice, exp: now() + 600, nbf: now() + 300 });
    expect(await api.get(token)).toMatchObject({ status: 401, body: { message: 'token not valid yet (nbf)' } });
  });

  it('answers 401 to a token without a sub claim', async () => {
    expect((await api.get(hs256({ roles: ['admin'], exp: now() + 60 }))).status).toBe(401);
  });

  it('answers 403, not 401, to a valid token that grants no known role', async () => {
    const token = hs256({ sub: 'mallory', roles: ['superuser', 'guest'], exp: now() + 60 });
    expect(await api.get(token)).toMatchObject({ status: 403, body: { statusCode: 403 } });
  });

  it('lets a valid user through and hands the route its caller', async () => {
    const reply = await api.get(hs256({ ...alice, exp: now() + 60 }));
    expect(reply).toEqual({ status: 200, body: { sub: 'alice', roles: ['user'], isAdmin: false } });
  });

  it('reads roles given as one space- or comma-separated string', async () => {
    const reply = await api.get(hs256({ sub: 'root', roles: 'user, admin', exp: now() + 60 }));
    expect(reply).toEqual({ status: 200, body: { sub: 'root', roles: ['admin', 'user'], isAdmin: true } });
  });

  it('serves a @Public() route without any token', async () => {
    expect(await api.get(undefined, '/api/probe/open')).toEqual({ status: 200, body: { ok: true } });
  });
});

/** Resolves once the clock has reached the whole second `second` (jsonwebtoken's clock). */
async function clockReaches(second: number): Promise<void> {
  while (now() < second) await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
}

describe('an API that remembers verified tokens', () => {
  const api = probeApp({ secret: SECRET, algorithms: ['HS256'] });

  it('refuses a token it has accepted before once the token expires, as a fresh verification would', async () => {
    await clockReaches(now() + 1);
    const start = now();
    // Accepted during the seconds start and start + 1 (exp plus the tolerance), refused from start + 2.
    const token = hs256({ ...alice, exp: start + 2 - CLOCK_TOLERANCE_SECONDS });
    expect((await api.get(token)).status).toBe(200);
    expect((await api.get(token)).status).toBe(200);
    await clockReaches(start + 2);
    expect(await api.get(token)).toMatchObject({ status: 401, body: { message: 'token expired' } });
  });

  it('refuses a token whose claims were altered after the original was accepted', async () => {
    const token = hs256({ ...alice, exp: now() + 60 });
    expect((await api.get(token)).status).toBe(200);
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ ...alice, roles: ['admin'], exp: now() + 60 })).toString('base64url');
    expect(await api.get(`${header}.${payload}.${signature}`)).toMatchObject({ status: 401, body: { message: 'invalid signature' } });
    expect(await api.get(token)).toMatchObject({ status: 200, body: { isAdmin: false } });
  });
});

// The same token across two apps one after the other: the second, with another secret, refuses
// what the first accepted and remembered.
const acceptedByFirstSecret = hs256({ ...alice, exp: now() + 600 });

describe('an API that accepted a token', () => {
  const api = probeApp({ secret: SECRET, algorithms: ['HS256'] });

  it('accepts it', async () => {
    expect((await api.get(acceptedByFirstSecret)).status).toBe(200);
    expect((await api.get(acceptedByFirstSecret)).status).toBe(200);
  });
});

describe('the API restarted with another secret', () => {
  const api = probeApp({ secret: 'another-secret-that-is-long-enough-for-hs256', algorithms: ['HS256'] });

  it('refuses the token the old secret signed', async () => {
    expect(await api.get(acceptedByFirstSecret)).toMatchObject({ status: 401, body: { message: 'invalid signature' } });
  });
});

describe('an API that checks issuer and audience', () => {
  const api = probeApp({ secret: SECRET, algorithms: ['HS256'], issuer: 'https://issuer.test', audience: 'cronwarden' });
  const claims = { ...alice, iss: 'https://issuer.test', aud: 'cronwarden' };

  it('accepts a token from the configured issuer for the configured audience', async () => {
    expect((await api.get(hs256({ ...claims, exp: now() + 60 }))).status).toBe(200);
  });

  it('answers 401 to a token from another issuer', async () => {
    const token = hs256({ ...claims, iss: 'https://evil.test', exp: now() + 60 });
    expect(await api.get(token)).toMatchObject({ status: 401, body: { message: 'token issuer not accepted' } });
  });

  it('answers 401 to a token for another audience', async () => {
    const token = hs256({ ...claims, aud: 'someone-else', exp: now() + 60 });
    expect(await api.get(token)).toMatchObject({ status: 401, body: { message: 'token audience not accepted' } });
  });

  it('answers 401 to a token with no iss or aud at all', async () => {
    expect((await api.get(hs256({ ...alice, exp: now() + 60 }))).status).toBe(401);
  });
});

describe('an RS256-configured API', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const api = probeApp({ publicKey: publicPem, algorithms: ['RS256', 'ES256'] });

  it('accepts a valid RS256 token', async () => {
    const token = jwt.sign({ ...alice, exp: now() + 60 }, rsa.privateKey, { algorithm: 'RS256' });
    expect(await api.get(token)).toMatchObject({ status: 200, body: { sub: 'alice' } });
  });

  it('answers 401 to an HS256 token signed with the public key text as the secret', async () => {
    const token = forgeToken({ alg: 'HS256', typ: 'JWT' }, { ...alice, exp: now() + 60 }, publicPem);
    expect(await api.get(token)).toMatchObject({ status: 401, body: { message: 'token algorithm not allowed' } });
  });
});

describe('an ES256-configured API', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const otherEc = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicPem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const api = probeApp({ publicKey: publicPem, algorithms: ['ES256'] });

  it('accepts a valid ES256 token', async () => {
    const token = jwt.sign({ ...alice, exp: now() + 60 }, ec.privateKey, { algorithm: 'ES256' });
    expect(await api.get(token)).toMatchObject({ status: 200, body: { sub: 'alice' } });
  });

  it('answers 401 to an ES256 token signed with another key', async () => {
    const token = jwt.sign({ ...alice, exp: now() + 60 }, otherEc.privateKey, { algorithm: 'ES256' });
    expect((await api.get(token)).status).toBe(401);
  });
});

describe('the token script', () => {
  const script = fileURLToPath(new URL('../../scripts/token.mjs', import.meta.url));
  const run = (args: string[], env: Record<string, string>): string =>
    execFileSync('node', [script, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', stdio: 'pipe' });
  const api = probeApp({ secret: SECRET, algorithms: ['HS256'], issuer: 'https://issuer.test', audience: 'cronwarden' });

  it('prints a token the API accepts, with the subject, roles and lifetime asked for', async () => {
    const env = { JWT_SECRET: SECRET, JWT_ISSUER: 'https://issuer.test', JWT_AUDIENCE: 'cronwarden' };
    const token = run(['--sub', 'alice', '--roles', 'user', '--ttl', '12h'], env).trim();
    expect(await api.get(token)).toEqual({ status: 200, body: { sub: 'alice', roles: ['user'], isAdmin: false } });
    const claims = jwt.verify(token, SECRET) as jwt.JwtPayload;
    expect(claims.exp! - claims.iat!).toBe(12 * 3600);
  });

  it('defaults to an admin token that lives one hour', () => {
    const claims = jwt.verify(run([], { JWT_SECRET: SECRET }).trim(), SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: 'admin', roles: ['admin'] });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(claims.iss).toBeUndefined();
  });

  it('exits 1 with a message when JWT_SECRET is not set and no local secret exists', () => {
    const empty = mkdtempSync(join(tmpdir(), 'cw-token-'));
    expect(() => run([], { CRONWARDEN_DATA_DIR: empty })).toThrow(expect.objectContaining({ status: 1, stderr: expect.stringContaining('JWT_SECRET') }));
    rmSync(empty, { recursive: true });
  });

  it('signs with the secret an embedded-database daemon generated in its data directory', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cw-token-'));
    writeFileSync(join(dataDir, 'jwt-secret'), `${SECRET}\n`);
    expect(jwt.verify(run([], { CRONWARDEN_DATA_DIR: dataDir }).trim(), SECRET)).toMatchObject({ sub: 'admin' });
    rmSync(dataDir, { recursive: true });
  });
});
