import fc from 'fast-check';
import { api, createTestStore, FIXTURES, startTestDaemon, token, type TestDaemon, type TestStore } from '../support/daemon.js';

const alice = token('alice', ['user']);
const admin = token('ops', ['admin']);

const yaml = `
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
jobs:
  nightly: { pipeline: ok, cron: "0 3 * * *" }
`;

// Values near what the API expects, plus hostile ones: wrong types, NUL, lone surrogates, huge numbers.
const nasty = fc.oneof(
  fc.constantFrom('ok', 'nope', '', ' ', '\u0000', '\ud800', '5h', '1s', '0', '-1h', '999999999d', '* * * * *', '61 * * * *',
    '0 0 30 2 *', 'UTC', 'Europe/Berlin', 'Mars/Base', 'skip', 'queue', 'replace', 'all', 'system', '__proto__', 'a'.repeat(300)),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
);
const field = fc.constantFrom('id', 'name', 'pipeline', 'cron', 'every', 'timezone', 'params', 'overlap', 'catchup',
  'catchupWindow', 'jitter', 'owner', 'note', 'n', 'reason', 'extra');
const body = fc.oneof(
  fc.dictionary(field, nasty, { maxKeys: 8 }),
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ unit: 'binary', maxLength: 60 }).map((raw) => ({ raw })),
);
const route = fc.constantFrom(
  ['POST', '/api/cron/jobs'], ['PATCH', '/api/cron/jobs/target'], ['PATCH', '/api/cron/jobs/nightly'],
  ['POST', '/api/cron/jobs/target/trigger'], ['POST', '/api/cron/jobs/target/pause'], ['POST', '/api/cron/preview'],
  ['POST', '/api/cron/runs/00000000-0000-4000-8000-000000000000/cancel'],
);
const query = fc.tuple(
  fc.constantFrom('/api/cron/jobs', '/api/cron/runs', '/api/cron/jobs/target/runs', '/api/cron/jobs/target/next', '/api/cron/audit',
    '/api/cron/stats', '/api/cron/pipelines', '/api/cron/jobs/target'),
  fc.dictionary(fc.constantFrom('owner', 'paused', 'pipeline', 'limit', 'cursor', 'jobId', 'status', 'trigger', 'since', 'n', 'tail',
    'actor', 'action', 'x'),
    fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 10 }), fc.integer().map(String)), { maxKeys: 4 }),
);

describe('the API under fuzzed input', () => {
  let store: TestStore;
  let daemon: TestDaemon;

  beforeAll(async () => {
    store = await createTestStore('pglite');
    daemon = await startTestDaemon(store, yaml);
    expect((await api(daemon, 'POST', '/api/cron/jobs', { token: alice, body: { id: 'target', pipeline: 'ok', every: '5h' } })).status).toBe(201);
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
  });

  const send = async (method: string, path: string, as: string, payload?: unknown) => {
    const raw = typeof payload === 'object' && payload !== null && 'raw' in payload ? String(payload.raw) : JSON.stringify(payload);
    const response = await fetch(daemon.url + path, {
      method, headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json' }, body: payload === undefined ? undefined : raw,
    });
    await response.arrayBuffer();
    return response.status;
  };

  it('never answers a fuzzed request body with a 5xx', async () => {
    await fc.assert(fc.asyncProperty(route, body, fc.constantFrom(alice, admin), async ([method, path], payload, as) => {
      const status = await send(method, path, as, payload);
      expect(status).toBeLessThan(500);
    }), { numRuns: 300 });
  });

  it('never answers a fuzzed query string or path with a 5xx', async () => {
    await fc.assert(fc.asyncProperty(query, fc.constantFrom(alice, admin), async ([path, params], as) => {
      const search = new URLSearchParams(params).toString();
      expect(await send('GET', `${path}?${search}`, as)).toBeLessThan(500);
    }), { numRuns: 300 });
    await fc.assert(fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 30 }), async (id) => {
      const encoded = encodeURIComponent(id);
      for (const path of [`/api/cron/jobs/${encoded}`, `/api/cron/runs/${encoded}`, `/api/cron/runs/${encoded}/output?tail=3`]) {
        expect(await send('GET', path, admin)).toBeLessThan(500);
      }
    }), { numRuns: 100 });
  });

  it('still serves requests afterwards', async () => {
    // As an admin: a fuzzed PATCH by the admin may have given the job another owner, hiding it from alice.
    expect((await api(daemon, 'GET', '/api/cron/jobs/target', { token: admin })).status).toBe(200);
    expect((await api(daemon, 'GET', '/health')).status).toBe(200);
  });
});
