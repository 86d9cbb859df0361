import { OutputCapture } from '../../src/executor/output-capture.js';
import { OutputFlusher } from '../../src/executor/output-flusher.js';
import { Clock } from '../../src/common/clock.js';
import { LiveOutputs } from '../../src/runs/live-output.js';
import { RunOutputRepository } from '../../src/runs/run-output.repository.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { token } from '../support/daemon.js';
import { testDatabaseKinds } from '../support/databases.js';
import { collectEvents } from '../support/sse.js';

const admin = token('ops', ['admin']);
const HEAD = `${'H'.repeat(63)}\n`;
/** Long enough that no flush in a test writes the tail: only the final one does. */
const NEVER_MS = 3_600_000;

/**
 * Readers on the node running a run get its output from memory: the moving tail reaches the
 * database only every few seconds, so the table alone would show it late.
 */
describe.each(testDatabaseKinds())('live output on the running node, %s', (kind) => {
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp(kind)));
  afterAll(async () => app?.close());

  const get = async (path: string) => {
    const response = await fetch(app.url + path, { headers: { authorization: `Bearer ${admin}` } });
    return { status: response.status, text: await response.text() };
  };

  /** A running run whose output is kept in 64 bytes of head and 64 of tail, its head filled and stored, served live as the executor would. */
  async function runningRun() {
    const runId = await app.db.createRun();
    const capture = new OutputCapture(128);
    const flusher = new OutputFlusher(runId, capture, new RunOutputRepository(app.db.database), new Clock(), NEVER_MS);
    const stopServing = app.app.get(LiveOutputs).add(runId, capture);
    capture.write('stdout', Buffer.from(HEAD));
    await flusher.flush();
    const storedTail = async () => (await app.db.database.rows(`SELECT 1 FROM cw_run_output WHERE run_id = $1 AND part = 'tail'`, [runId])).length;
    const finish = async () => {
      await flusher.flush(true);
      stopServing();
      await app.db.database.rows(`UPDATE cw_runs SET status = 'succeeded', exit_code = 0, finished_at = now() WHERE id = $1`, [runId]);
    };
    return { runId, capture, storedTail, finish };
  }

  it('serves the text output with the tail that is not stored yet', async () => {
    const { runId, capture, storedTail } = await runningRun();
    capture.write('stdout', Buffer.from('line 1\n'));
    capture.write('stderr', Buffer.from('oops\n'));

    expect((await get(`/api/cron/runs/${runId}/output`)).text).toBe(`${HEAD}line 1\noops\n`);
    expect((await get(`/api/cron/runs/${runId}/output?stream=stderr`)).text).toBe('oops\n');
    expect(await storedTail()).toBe(0);
  });

  it('reports the progress line the child just wrote', async () => {
    const { runId, capture, storedTail } = await runningRun();
    capture.write('stdout', Buffer.from('::progress 40 halfway\n'));

    expect(JSON.parse((await get(`/api/cron/runs/${runId}`)).text)).toMatchObject({ progress: 40, progressNote: 'halfway' });
    expect(await storedTail()).toBe(0);
  });

  it('streams new output from memory as it comes, then the rest from the table once the run ended', async () => {
    const { runId, capture, storedTail, finish } = await runningRun();
    capture.write('stdout', Buffer.from('line 1\n'));
    let wrote = false;
    const { events } = await collectEvents(`${app.url}/api/cron/runs/${runId}/output/stream`, admin, async (event) => {
      if (event.event !== 'output') return;
      if (!wrote && event.data.text.includes('line 1')) {
        wrote = true;
        expect(await storedTail()).toBe(0);
        capture.write('stdout', Buffer.from('line 2\n'));
      } else if (event.data.text.includes('line 2')) {
        capture.write('stdout', Buffer.from('line 3\n'));
        await finish();
      }
    });

    const outputs = events.filter((event) => event.event === 'output').map((event) => event.data.text).join('');
    expect(outputs).toBe(`${HEAD}line 1\nline 2\nline 3\n`);
    expect(events.some((event) => event.event === 'dropped')).toBe(false);
    expect(events[events.length - 1]).toMatchObject({ event: 'end', data: { status: 'succeeded' } });
  });
});
