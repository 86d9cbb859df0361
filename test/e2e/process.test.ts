import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAEMON_NODE_FLAGS } from '../../src/common/node-flags.js';
import { npmStartWords } from '../deploy/deploy-files.js';
import { createPgliteDataDir } from '../support/databases.js';
import { waitFor } from '../support/daemon.js';

/** `npm start`'s command line (systemd's and the image's, test/deploy checks): `node <flags> dist/main.js`. */
const NPM_START = npmStartWords().slice(1);
const NO_FLAGS = ['dist/main.js'];
const STARTED_WITHOUT_FLAGS = /^node was started without --no-memory-reducer: /;

/** The built daemon run by `args` (NPM_START, or NO_FLAGS as an operator might), its stdout read as JSON lines. */
class DaemonProcess {
  readonly lines: string[] = [];
  stderr = '';
  readonly child: ChildProcessWithoutNullStreams;
  constructor(env: Record<string, string>, args = NPM_START) {
    this.child = spawn(process.execPath, args, { env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', ...env } });
    let partial = '';
    this.child.stdout.on('data', (data: Buffer) => {
      const text = partial + data.toString();
      const lines = text.split('\n');
      partial = lines.pop()!;
      this.lines.push(...lines.filter(Boolean));
    });
    this.child.stderr.on('data', (data: Buffer) => (this.stderr += data.toString()));
  }
  records(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
  async url(): Promise<string> {
    const line = await waitFor(async () => this.lines.find((l) => l.includes('listening on')), 30_000, 'the daemon to listen');
    return `http://127.0.0.1:${/:(\d+) \(node/.exec(line)![1]}`;
  }
  async exit(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const [code] = await once(this.child, 'exit');
    return code as number | null;
  }
}

describe('the daemon process', () => {
  let dataDir: string;
  beforeEach(async () => (dataDir = await createPgliteDataDir()));
  afterEach(async () => rm(dataDir, { recursive: true, force: true }));

  it('refuses a bad config with exit code 78, naming the file, the key and the reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cw-bad-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'pipelines:\n  p: { command: ["true"], colour: red }\njobs:\n  j: { pipeline: p, cron: "99 * * * *" }\n');
    const daemon = new DaemonProcess({ CRONWARDEN_CONFIG: file, CRONWARDEN_DATA_DIR: dataDir, JWT_SECRET: 'x'.repeat(40) });
    expect(await daemon.exit()).toBe(78);
    expect(daemon.stderr).toContain(`${file}: pipelines.p.colour:`);
    expect(daemon.stderr).toMatch(new RegExp(`${file}: jobs\\.j\\.cron: .+`));
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the shipped config: token, trigger, JSON logs with jobId and runId, clean exit on SIGTERM', async () => {
    const daemon = new DaemonProcess({ CRONWARDEN_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' });
    const url = await daemon.url();
    const token = execFileSync(process.execPath, ['scripts/token.mjs'], { env: { CRONWARDEN_DATA_DIR: dataDir } }).toString().trim();
    const response = await fetch(`${url}/api/cron/jobs/main_pipeline_v2/trigger`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(202);
    const run = (await response.json()) as { id: string };
    const ended = await waitFor(async () => daemon.records().find((r) => r.runId === run.id && String(r.message).startsWith('run ended')), 30_000, 'the run to end');
    expect(ended).toMatchObject({ jobId: 'main_pipeline_v2', runId: run.id, status: 'succeeded', exitCode: 0, level: 'info' });
    expect(daemon.records().find((r) => r.runId === run.id && String(r.message).startsWith('run started'))).toMatchObject({ jobId: 'main_pipeline_v2' });
    expect(daemon.records().find((r) => r.path === '/api/cron/jobs/main_pipeline_v2/trigger')).toMatchObject({ context: 'HTTP', method: 'POST', status: 202 });
    expect(daemon.lines.join('\n')).not.toContain(token);
    // Started as npm start starts it: nothing to warn about, and the embedded database's process has the flags too.
    expect(daemon.records().filter((r) => STARTED_WITHOUT_FLAGS.test(String(r.message)))).toEqual([]);
    const sidecar = execFileSync('pgrep', ['-P', String(daemon.child.pid), '-f', 'pglite-server']).toString().trim();
    expect(readFileSync(`/proc/${sidecar}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining([...DAEMON_NODE_FLAGS]));
    daemon.child.kill('SIGTERM');
    expect(await daemon.exit()).toBe(0);
  });

  it('exits non-zero, saying why, when its embedded database process dies', async () => {
    const daemon = new DaemonProcess({ CRONWARDEN_DATA_DIR: dataDir, PORT: '0', JWT_SECRET: 'y'.repeat(40) }, NO_FLAGS);
    await daemon.url();
    // Started without the shipped node flags, it says so, and how to start it.
    expect(daemon.records().find((r) => STARTED_WITHOUT_FLAGS.test(String(r.message)))).toMatchObject({ level: 'warn', message: expect.stringContaining('node --no-memory-reducer dist/main.js') });
    const sidecar = execFileSync('pgrep', ['-P', String(daemon.child.pid)]).toString().trim().split('\n').map(Number);
    for (const pid of sidecar) process.kill(pid, 'SIGKILL');
    expect(await daemon.exit()).not.toBe(0);
    expect(daemon.lines.join('\n') + daemon.stderr).toMatch(/embedded database process exited/);
  });
});
