import { api, createTestStore, FIXTURES, startTestDaemon, token, type TestDaemon, type TestStore } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const alice = token('alice', ['user']);

const yaml = `
pipelines:
  ok:
    command: ["${FIXTURES}/exit-0.sh"]
`;

const valid = { pipeline: 'ok', every: '1h' };
const deep = (levels: number): unknown => (levels === 0 ? 1 : { a: deep(levels - 1) });

/** [what is wrong, the body, the field the 400 must name, a part of its message]. */
const createCases: Array<[string, object, string, RegExp]> = [
  ['id of the wrong type', { ...valid, id: 42 }, 'id', /id must be 1-63 lowercase/],
  ['id that is not a slug', { ...valid, id: 'Has Spaces' }, 'id', /id must be 1-63 lowercase/],
  ['id too long', { ...valid, id: 'a'.repeat(64) }, 'id', /id must be 1-63/],
  ['name of the wrong type', { ...valid, name: ['x'] }, 'name', /name must be a string/],
  ['empty name', { ...valid, name: '' }, 'name', /name must not be empty/],
  ['name with a NUL', { ...valid, name: 'a\u0000b' }, 'name', /NUL/],
  ['missing pipeline', { every: '1h' }, 'pipeline', /pipeline must be a string/],
  ['pipeline of the wrong type', { ...valid, pipeline: 7 }, 'pipeline', /pipeline must be a string/],
  ['unknown pipeline', { ...valid, pipeline: 'nope' }, 'pipeline', /unknown pipeline "nope"; the config defines: ok/],
  ['no schedule', { pipeline: 'ok' }, 'cron', /needs a schedule/],
  ['both schedules', { ...valid, cron: '* * * * *' }, 'cron', /either cron or every, not both/],
  ['cron of the wrong type', { pipeline: 'ok', cron: 5 }, 'cron', /cron must be a string/],
  ['bad cron expression', { pipeline: 'ok', cron: '61 * * * *' }, 'cron', /invalid cron expression "61 \* \* \* \*": .+/],
  ['cron with too many fields', { pipeline: 'ok', cron: '* * * * * * * *' }, 'cron', /invalid cron expression/],
  ['cron that never fires', { pipeline: 'ok', cron: '0 0 30 2 *' }, 'cron', /never matches/],
  ['every without a unit', { pipeline: 'ok', every: '5' }, 'every', /has no unit/],
  ['every of the wrong type', { pipeline: 'ok', every: 3600 }, 'every', /duration string/],
  ['every under a second', { pipeline: 'ok', every: '500ms' }, 'every', /at least 1s/],
  ['every over a year', { pipeline: 'ok', every: '400d' }, 'every', /at most 366d/],
  ['unknown time zone', { pipeline: 'ok', cron: '0 3 * * *', timezone: 'Mars/Olympus' }, 'timezone', /unknown time zone "Mars\/Olympus"/],
  ['time zone of the wrong type', { ...valid, timezone: false }, 'timezone', /timezone must be a string/],
  ['params that are a list', { ...valid, params: [1, 2] }, 'params', /params must be a JSON object/],
  ['params that are a string', { ...valid, params: '{}' }, 'params', /params must be a JSON object/],
  ['oversized params', { ...valid, params: { blob: 'x'.repeat(17 * 1024) } }, 'params', /at most 16384 bytes/],
  ['params nested too deep', { ...valid, params: deep(40) }, 'params', /deeper than 32/],
  ['params with a NUL', { ...valid, params: { text: 'a\u0000' } }, 'params', /NUL/],
  ['params with a lone surrogate key', { ...valid, params: { '\ud800': 1 } }, 'params', /surrogates/],
  ['unknown overlap policy', { ...valid, overlap: 'sometimes' }, 'overlap', /overlap must be one of skip, queue, allow, replace/],
  ['unknown catchup policy', { ...valid, catchup: 'never' }, 'catchup', /catchup must be one of skip, once, all/],
  ['catchupWindow of the wrong type', { ...valid, catchupWindow: 60 }, 'catchupWindow', /duration string/],
  ['jitter over a day', { ...valid, jitter: '2d' }, 'jitter', /at most 1d/],
  ['owner of the wrong type', { ...valid, owner: {} }, 'owner', /owner must be a string/],
  ['an unknown field', { ...valid, command: ['rm', '-rf', '/'] }, 'command', /command is not a known field/],
];

const patchCases: Array<[string, object, string, RegExp]> = [
  ['null for a field', { cron: null }, 'cron', /cron must be a string/],
  ['null pipeline', { pipeline: null }, 'pipeline', /pipeline must be a string/],
  ['a new id', { id: 'other' }, 'id', /id is not a known field/],
  ['an unknown pipeline', { pipeline: 'nope' }, 'pipeline', /unknown pipeline/],
  ['a bad cron', { cron: 'every day' }, 'cron', /invalid cron expression/],
  ['a time zone that breaks nothing but is unknown', { timezone: 'Nowhere/Land' }, 'timezone', /unknown time zone/],
];

describe.each(testDatabaseKinds())('request validation on %s', (kind) => {
  let store: TestStore;
  let daemon: TestDaemon;

  beforeAll(async () => {
    store = await createTestStore(kind);
    daemon = await startTestDaemon(store, yaml);
    expect((await api(daemon, 'POST', '/api/cron/jobs', { token: alice, body: { ...valid, id: 'target' } })).status).toBe(201);
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
  });

  it.each(createCases)('answers 400 naming the field to a create with %s', async (_what, body, field, message) => {
    const response = await api(daemon, 'POST', '/api/cron/jobs', { token: alice, body });
    expect(response.status).toBe(400);
    expect(response.body.field).toBe(field);
    expect(response.body.message).toMatch(message);
  });

  it.each(patchCases)('answers 400 naming the field to a change with %s', async (_what, body, field, message) => {
    const response = await api(daemon, 'PATCH', '/api/cron/jobs/target', { token: alice, body });
    expect(response.status).toBe(400);
    expect(response.body.field).toBe(field);
    expect(response.body.message).toMatch(message);
  });

  it('leaves a job unchanged after a rejected change', async () => {
    expect((await api(daemon, 'GET', '/api/cron/jobs/target', { token: alice })).body).toMatchObject({ every: '1h', cron: null, timezone: 'UTC' });
  });

  it('answers 400 to a body that is not JSON, and 404 to an id that cannot exist', async () => {
    const response = await fetch(`${daemon.url}/api/cron/jobs`, {
      method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' }, body: '{"pipeline": ',
    });
    expect(response.status).toBe(400);
    expect((await api(daemon, 'GET', '/api/cron/jobs/%00', { token: alice })).status).toBe(404);
    expect((await api(daemon, 'GET', `/api/cron/jobs/${'x'.repeat(5000)}`, { token: alice })).status).toBe(404);
  });

  it('answers 400 naming the field to trigger params and pause notes of the wrong shape', async () => {
    const trigger = await api(daemon, 'POST', '/api/cron/jobs/target/trigger', { token: alice, body: { params: { big: 'x'.repeat(20_000) } } });
    expect(trigger).toMatchObject({ status: 400, body: { field: 'params' } });
    const pause = await api(daemon, 'POST', '/api/cron/jobs/target/pause', { token: alice, body: { note: 12 } });
    expect(pause).toMatchObject({ status: 400, body: { field: 'note' } });
  });
});
