import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { createPgliteDataDir } from '../support/databases.js';
import { FIXTURES, waitFor } from '../support/daemon.js';

const SECRET = 'shutdown-test-secret-0123456789abcdef';
const token = jwt.sign({ sub: 'ops', roles: ['admin'] }, SECRET, { expiresIn: '1h' });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts `node dist/main.js` and resolves with it and its URL once it listens. */
async function startDaemon(env: Record<string, string>) {
  const child = spawn(process.execPath, ['dist/main.js'], { env: { PATH: process.env.PATH!, JWT_SECRET: SECRET, PORT: '0', LOG_LEVEL: 'info', ...env } });
  let stdout = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stdout += data.toString()));
  const port = await waitFor(async () => /listening on http:\/\/[^:]+:(\d+)/.exec(stdout)?.[1], 30_000, 'the daemon to listen');
  return { child, url: `http://127.0.0.1:${port}`, output: () => stdout };
}

describe('graceful shutdown of the daemon process', () => {
  let dir: string;
  let dataDir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cw-shutdown-'));
    dataDir = await createPgliteDataDir();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  it('drains on SIGTERM: 503 for the balancer, runs killed after the grace with their group, recorded cancelled, exit 0', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const config = join(dir, 'cronwarden.yaml');
    await writeFile(config, `
daemon: { shutdownGrace: 2s }
pipelines:
  long:
    command: ["${FIXTURES}/spawn-grandchild.sh", "${pidFile}"]
    killGrace: 1s
  resumable:
    command: ["${FIXTURES}/sleep.sh", "4"]
    killGrace: 1s
    requeueOnShutdown: true
jobs:
  long: { pipeline: long, every: 5h }
  resumable: { pipeline: resumable, every: 5h }
`);
    const daemon = await startDaemon({ CRONWARDEN_CONFIG: config, CRONWARDEN_DATA_DIR: dataDir });
    const headers = { Authorization: `Bearer ${token}` };
    const run = (await (await fetch(`${daemon.url}/api/cron/jobs/long/trigger`, { method: 'POST', headers })).json()) as { id: string };
    const resumable = (await (await fetch(`${daemon.url}/api/cron/jobs/resumable/trigger`, { method: 'POST', headers })).json()) as { id: string };
    const grandchild = Number(await waitFor(async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim(), 10_000, 'the grandchild'));
    expect(alive(grandchild)).toBe(true);

    const stopped = Date.now();
    daemon.child.kill('SIGTERM');
    const draining = await waitFor(async () => {
      const response = await fetch(`${daemon.url}/health`).catch(() => null);
      return response?.status === 503 ? ((await response.json()) as { error: Record<string, { status: string }> }) : null;
    }, 2_000, 'health to turn 503');
    expect(draining.error.lifecycle.status).toBe('down');
    const [code] = await once(daemon.child, 'exit');
    expect(code).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(2_000 + 1_000 + 5_000);
    await waitFor(async () => !alive(grandchild), 5_000, 'the grandchild to be gone');

    const again = await startDaemon({ CRONWARDEN_CONFIG: config, CRONWARDEN_DATA_DIR: dataDir });
    const recorded = (await (await fetch(`${again.url}/api/cron/runs/${run.id}`, { headers })).json()) as Record<string, unknown>;
    expect(recorded).toMatchObject({ status: 'cancelled', error: expect.stringMatching(/^daemon shutdown/) });
    // requeueOnShutdown: the killed run is recorded, and queued again as a retry that the next start runs.
    const retried = await waitFor(async () => {
      const { items } = (await (await fetch(`${again.url}/api/cron/jobs/resumable/runs`, { headers })).json()) as { items: Array<Record<string, unknown>> };
      const retry = items.find((run) => run.trigger === 'retry');
      return retry?.status === 'succeeded' ? { items, retry } : null;
    }, 15_000, 'the re-queued run to succeed');
    expect(retried.items.find((run) => run.id === resumable.id)).toMatchObject({ status: 'cancelled' });
    expect(retried.retry).toMatchObject({ parentRunId: resumable.id, attempt: 2 });
    again.child.kill('SIGTERM');
    expect((await once(again.child, 'exit'))[0]).toBe(0);
  });

  it('on a second SIGTERM skips the rest of the grace, kills the runs at once and still records them', async () => {
    const config = join(dir, 'patient.yaml');
    await writeFile(config, `
daemon: { shutdownGrace: 60s }
pipelines:
  long:
    command: ["${FIXTURES}/sleep.sh", "120"]
    killGrace: 1s
jobs:
  long: { pipeline: long, every: 5h }
`);
    const daemon = await startDaemon({ CRONWARDEN_CONFIG: config, CRONWARDEN_DATA_DIR: dataDir });
    const headers = { Authorization: `Bearer ${token}` };
    const run = (await (await fetch(`${daemon.url}/api/cron/jobs/long/trigger`, { method: 'POST', headers })).json()) as { id: string };
    await waitFor(async () => ((await (await fetch(`${daemon.url}/api/cron/runs/${run.id}`, { headers })).json()) as { status: string }).status === 'running', 10_000, 'the run to start');
    const stopped = Date.now();
    daemon.child.kill('SIGTERM');
    await waitFor(async () => (await fetch(`${daemon.url}/health`).catch(() => null))?.status === 503, 2_000, 'draining');
    daemon.child.kill('SIGTERM');
    const [code] = await once(daemon.child, 'exit');
    expect(code).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(10_000);

    const again = await startDaemon({ CRONWARDEN_CONFIG: config, CRONWARDEN_DATA_DIR: dataDir });
    const recorded = (await (await fetch(`${again.url}/api/cron/runs/${run.id}`, { headers })).json()) as Record<string, unknown>;
    expect(recorded).toMatchObject({ status: 'cancelled', error: expect.stringMatching(/^daemon shutdown \(second signal\)/) });
    again.child.kill('SIGTERM');
    expect((await once(again.child, 'exit'))[0]).toBe(0);
  });
});
