import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { api, createTestStore, FIXTURES, startTestDaemon, TEST_JWT_SECRET, type TestDaemon, type TestStore } from '../support/daemon.js';

const yaml = `
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
jobs:
  nightly: { pipeline: ok, cron: "0 3 * * *" }
`;
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'cronwarden';
const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: object = {}) => ({ sub: 'alice', roles: ['user'], iss: ISSUER, aud: AUDIENCE, exp: now() + 600, ...extra });

/** A token built by hand, past jsonwebtoken's own checks: unsigned unless `hmacKey` is given. */
function forge(header: object, payload: object, hmacKey?: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${hmacKey === undefined ? '' : createHmac('sha256', hmacKey).update(input).digest('base64url')}`;
}

/** Starts one daemon per describe block: passport keeps one strategy per process. */
function daemonWith(env: () => Record<string, string>) {
  const state = {} as { store: TestStore; daemon: TestDaemon };
  beforeAll(async () => {
    state.store = await createTestStore('pglite');
    state.daemon = await startTestDaemon(state.store, yaml, env());
  });
  afterAll(async () => {
    await state.daemon?.close();
    await state.store?.dispose();
  });
  return state;
}

describe('the API with HS256, issuer and audience', () => {
  const state = daemonWith(() => ({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE }));
  const hs = (payload: object, secret = TEST_JWT_SECRET) => jwt.sign(payload, secret, { algorithm: 'HS256' });
  const status = async (token: string | undefined, method = 'GET', path = '/api/cron/jobs') =>
    (await api(state.daemon, method, path, { token })).status;

  it.each([
    ['no token', undefined],
    ['a garbage token', 'garbage'],
    ['a token signed with another secret', hs(claims(), 'another-secret-that-is-long-enough-0123456789')],
    ['an alg:none token', forge({ alg: 'none', typ: 'JWT' }, claims())],
    ['an expired token', hs(claims({ exp: now() - 120 }))],
    ['a token without exp', hs({ sub: 'alice', roles: ['user'], iss: ISSUER, aud: AUDIENCE })],
    ['a token not valid yet', hs(claims({ nbf: now() + 300 }))],
    ['a token from another issuer', hs(claims({ iss: 'https://evil.test' }))],
    ['a token for another audience', hs(claims({ aud: 'someone-else' }))],
  ])('answers 401 to %s', async (_what, token) => {
    expect(await status(token)).toBe(401);
  });

  it('answers 403 to a valid token without a known role', async () => {
    expect(await status(hs(claims({ roles: ['guest'] })))).toBe(403);
  });

  it('lets a user read the system job but not pause it (403)', async () => {
    const user = hs(claims());
    expect(await status(user, 'GET', '/api/cron/jobs/nightly')).toBe(200);
    expect(await status(user, 'POST', '/api/cron/jobs/nightly/pause')).toBe(403);
    expect(await status(user, 'GET', '/api/cron/audit')).toBe(403);
  });

  it('lets an admin everywhere', async () => {
    const admin = hs(claims({ sub: 'ops', roles: ['admin'] }));
    const created = await api(state.daemon, 'POST', '/api/cron/jobs', { token: admin, body: { id: 'adm', pipeline: 'ok', every: '1h', owner: 'bob' } });
    expect(created.status).toBe(201);
    const run = await api(state.daemon, 'POST', '/api/cron/jobs/nightly/trigger', { token: admin });
    expect(run.status).toBe(202);
    for (const [method, path] of [['GET', '/api/cron/jobs'], ['GET', '/api/cron/jobs/adm'], ['PATCH', '/api/cron/jobs/adm'],
      ['POST', '/api/cron/jobs/nightly/pause'], ['POST', '/api/cron/jobs/nightly/resume'], ['GET', '/api/cron/jobs/adm/next'],
      ['GET', '/api/cron/jobs/adm/runs'], ['GET', '/api/cron/runs'], ['GET', `/api/cron/runs/${run.body.id}`],
      ['GET', `/api/cron/runs/${run.body.id}/output`], ['GET', '/api/cron/pipelines'], ['GET', '/api/cron/audit'],
      ['GET', '/api/cron/stats'], ['DELETE', '/api/cron/jobs/adm']]) {
      const response = await api(state.daemon, method, path, { token: admin, body: method === 'PATCH' ? { name: 'x' } : undefined });
      expect([method, path, response.status < 300]).toEqual([method, path, true]);
    }
  });
});

describe('the API with an RS256 public key', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const state = daemonWith(() => ({ JWT_SECRET: '', JWT_PUBLIC_KEY: publicPem }));
  const status = async (token: string) => (await api(state.daemon, 'GET', '/api/cron/jobs', { token })).status;
  const plain = () => ({ sub: 'alice', roles: ['user'], exp: now() + 600 });

  it('accepts an RS256 token signed with the private key', async () => {
    expect(await status(jwt.sign(plain(), rsa.privateKey, { algorithm: 'RS256' }))).toBe(200);
  });

  it('answers 401 to an HS256 token signed with the public key as the secret (algorithm confusion)', async () => {
    expect(await status(forge({ alg: 'HS256', typ: 'JWT' }, plain(), publicPem))).toBe(401);
  });

  it('answers 401 to an HS256 token signed with the test secret', async () => {
    expect(await status(jwt.sign(plain(), TEST_JWT_SECRET, { algorithm: 'HS256' }))).toBe(401);
  });
});
