import { api, createTestStore, FIXTURES, startTestDaemon, token, waitFor, type TestDaemon, type TestStore } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';

const admin = token('ops', ['admin']);
const POLICIES = ['skip', 'queue', 'allow', 'replace'] as const;

// Every job fires each second and runs 2.5 s: each run outlasts the interval, and a run being
// replaced has 1.5 s for the replacing to reach it (with 0.5 s, a loaded machine once let a run
// finish before its SIGTERM came).
const yaml = `
daemon:
  maxConcurrentRuns: 12
pipelines:
  slow:
    command: ["${FIXTURES}/sleep.sh", "2.5"]
jobs:
${POLICIES.map((policy) => `  ${policy}: { pipeline: slow, cron: "* * * * * *", overlap: ${policy} }`).join('\n')}
`;

interface Run { id: string; status: string; startedAt: string | null; finishedAt: string | null; error: string | null }

describe.each(testDatabaseKinds())('overlap policies on %s', (kind) => {
  let store: TestStore;
  let daemon: TestDaemon;
  const runs = new Map<string, Run[]>();

  beforeAll(async () => {
    store = await createTestStore(kind);
    daemon = await startTestDaemon(store, yaml);
    await waitFor(async () => {
      for (const policy of POLICIES) runs.set(policy, await runsOf(policy));
      const count = (policy: string, status: string) => runs.get(policy)!.filter((run) => run.status === status).length;
      return count('skip', 'skipped') >= 2 && count('queue', 'skipped') >= 1 && count('queue', 'succeeded') >= 2
        && count('allow', 'succeeded') >= 3 && count('replace', 'cancelled') >= 2;
    }, 20_000, 'each policy to have shown itself');
    for (const policy of POLICIES) await api(daemon, 'POST', `/api/cron/jobs/${policy}/pause`, { token: admin });
    await waitFor(async () => {
      for (const policy of POLICIES) runs.set(policy, await runsOf(policy));
      return [...runs.values()].flat().every((run) => !['queued', 'running'].includes(run.status));
    }, 20_000, 'every run to end');
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
  });

  async function runsOf(jobId: string): Promise<Run[]> {
    return (await api(daemon, 'GET', `/api/cron/jobs/${jobId}/runs?limit=200`, { token: admin })).body.items;
  }
  /** The runs that started, in start order. */
  const started = (policy: string) => runs.get(policy)!.filter((run) => run.startedAt).sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!));
  /** Whether any started run began before the one before it had ended. */
  const overlapped = (policy: string) => started(policy).some((run, i, all) => i > 0 && Date.parse(run.startedAt!) < Date.parse(all[i - 1].finishedAt!) - 50);

  it('skip: records a skipped run naming the unfinished one, and never runs two at once', () => {
    const skipped = runs.get('skip')!.filter((run) => run.status === 'skipped');
    for (const run of skipped) expect(run.error).toMatch(/^overlap policy skip: run [0-9a-f-]{36} has not finished$/);
    expect(overlapped('skip')).toBe(false);
    expect(started('skip').every((run) => run.status === 'succeeded')).toBe(true);
  });

  it('queue: buffers one run behind the running one, skips instants while one waits, and never runs two at once', () => {
    const skipped = runs.get('queue')!.filter((run) => run.status === 'skipped');
    for (const run of skipped) expect(run.error).toMatch(/^overlap policy queue: run [0-9a-f-]{36} is already waiting$/);
    expect(overlapped('queue')).toBe(false);
    expect(started('queue').every((run) => run.status === 'succeeded')).toBe(true);
  });

  it('allow: starts each instant even while earlier runs still run', () => {
    expect(runs.get('allow')!.some((run) => run.status === 'skipped')).toBe(false);
    expect(overlapped('allow')).toBe(true);
  });

  it('replace: stops the running run when the next instant fires, then starts the new one', () => {
    const all = started('replace');
    const replaced = all.slice(0, -1);
    expect(replaced.length).toBeGreaterThanOrEqual(2);
    for (const [i, run] of replaced.entries()) {
      expect(run.status).toBe('cancelled');
      expect(run.error).toMatch(new RegExp(`^replaced by run ${all[i + 1].id} \\(overlap policy replace\\)`));
    }
    expect(overlapped('replace')).toBe(false);
    expect(runs.get('replace')!.some((run) => run.status === 'skipped')).toBe(false);
  });
});
