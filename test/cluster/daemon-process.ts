import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { TEST_JWT_SECRET, waitFor } from '../support/daemon.js';

/** One built daemon in a child process, `node dist/main.js`, as systemd would run it; its stdout read as JSON lines. */
export class DaemonProcess {
  readonly lines: string[] = [];
  stderr = '';
  readonly child: ChildProcessWithoutNullStreams;
  private baseUrl: string | null = null;

  constructor(readonly env: Record<string, string>) {
    this.child = spawn(process.execPath, ['dist/main.js'], {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', JWT_SECRET: TEST_JWT_SECRET, PORT: '0', LOG_LEVEL: 'info', ...env },
    });
    let partial = '';
    this.child.stdout.on('data', (data: Buffer) => {
      const lines = (partial + data.toString()).split('\n');
      partial = lines.pop()!;
      this.lines.push(...lines.filter(Boolean));
    });
    this.child.stderr.on('data', (data: Buffer) => (this.stderr += data.toString()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The HTTP base URL once the daemon listens; the node id from the same line. */
  async ready(): Promise<{ url: string; nodeId: string }> {
    const line = await waitFor(async () => this.lines.find((l) => l.includes('listening on')) ?? (this.child.exitCode !== null ? 'exited' : null), 30_000, 'the daemon to listen');
    if (line === 'exited') throw new Error(`the daemon exited with ${this.child.exitCode}: ${this.stderr}`);
    const match = /listening on http:\/\/[^:]+:(\d+) \(node ([0-9a-f-]+)/.exec(line)!;
    this.baseUrl = `http://127.0.0.1:${match[1]}`;
    return { url: this.baseUrl, nodeId: match[2] };
  }

  /** An API call with a bearer token; the parsed JSON body. */
  async api(method: string, path: string, bearer: string, body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  }

  /** SIGTERM (or another signal), then the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    const [code] = await once(this.child, 'exit');
    return code as number | null;
  }
}

/** Writes a config file to a new temporary folder; returns its path for CRONWARDEN_CONFIG. */
export async function writeConfig(yaml: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'cw-cluster-')), 'cronwarden.yaml');
  await writeFile(file, yaml);
  return file;
}

/** A plain client on the test database, to read what the daemons wrote. */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** Whether a process with this pid exists and is not a zombie waiting to be reaped. */
export function processLives(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
