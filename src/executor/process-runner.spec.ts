import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildChildEnv } from './child-env.js';
import { OutputCapture } from './output-capture.js';
import { textOf } from '../../test/support/output.js';
import { builtExecHelper } from '../../test/support/exec-helper.js';
import { processExists } from '../../test/support/processes.js';
import { PIPE_READ_BYTES } from './pipe-reader.js';
import { killProcessGroup, processGroupAlive } from './process-group.js';
import { PIPE_CLOSE_WAIT_MS, ProcessRunner, type RunSpec } from './process-runner.js';
import { DirectSpawner, ForkedSpawner } from './spawner.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
const fixture = (name: string): string => join(fixtures, name);
const forked = new ForkedSpawner(undefined, null);
const forkedExec = new ForkedSpawner(undefined, builtExecHelper());
afterAll(() => [forked, forkedExec].forEach((spawner) => spawner.onApplicationShutdown()));

function spec(command: string[], overrides: Partial<RunSpec> = {}): RunSpec {
  return { command, shell: false, cwd: fixtures, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeoutMs: 20_000, killGraceMs: 2_000, maxOutputBytes: 1024 * 1024, ...overrides };
}

/** Polls `check` until it returns true; fails after `timeoutMs`. */
async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const processGone = (pid: number): boolean => !processExists(pid);

let tmp: string;
let pidFiles = 0;
/** A new file each time: the fixtures wait for their pid file to appear, so one left by an earlier test would not do. */
const pidFileFor = (name: string): string => join(tmp, `${name}-${++pidFiles}.pid`);
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cronwarden-runner-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

// Every behaviour holds whoever starts the command: the daemon's spawner process (through
// cronwarden-exec, or with Node's spawn() where it was not built) or the caller itself.
describe.each([
  ['from the spawner process through cronwarden-exec', forkedExec],
  ["from the spawner process with Node's spawn()", forked],
  ['in this process', new DirectSpawner()],
])('commands started %s', (_where, spawner) => {
  const runner = new ProcessRunner(spawner);

  describe('ProcessRunner exit states', () => {
    it('reports exit code 0, the pid and the output of a successful program', async () => {
      const output = new OutputCapture(1024);
      let spawnedPid: number | null = null;
      const result = await runner.run(spec([fixture('exit-0.sh')]), { output, onSpawn: (pid) => (spawnedPid = pid) });

      expect(result).toMatchObject({ exitCode: 0, signal: null, error: null, timedOut: false, cancelled: false, forceKilled: false });
      expect(result.pid).toBe(spawnedPid);
      expect(textOf(output)).toBe('hello from exit-0\n');
      expect(result.outputBytes).toBe(18);
      expect(result.finishedAt.getTime() - result.startedAt.getTime()).toBe(result.durationMs);
    });

    it('reports a non-zero exit code with both streams captured', async () => {
      const output = new OutputCapture(1024);
      const result = await runner.run(spec([fixture('exit-3.sh')]), { output });

      expect(result).toMatchObject({ exitCode: 3, signal: null, error: null });
      expect(textOf(output, 'stdout')).toBe('about to fail\n');
      expect(textOf(output, 'stderr')).toBe('failing with 3\n');
    });

    it('reports the name of the signal that killed the program', async () => {
      const result = await runner.run(spec([fixture('kill-self.sh'), 'USR1']));
      expect(result).toMatchObject({ exitCode: null, signal: 'SIGUSR1', error: null, timedOut: false });
    });

    it('runs command[0] through /bin/sh with the rest as $1, $2 when shell is true', async () => {
      const output = new OutputCapture(1024);
      const result = await runner.run(spec(['echo "$1+$2"; exit 4', 'left', 'right'], { shell: true }), { output });
      expect(result.exitCode).toBe(4);
      expect(textOf(output)).toBe('left+right\n');
    });

    it('gives the child every signal at its default and none blocked, though the spawner ignores some', async () => {
      const output = new OutputCapture(1024);
      const result = await runner.run(spec(['grep', '-E', '^Sig(Blk|Ign):', '/proc/self/status']), { output });
      expect(result).toMatchObject({ exitCode: 0, error: null });
      const masks = new Map(textOf(output).trim().split('\n').map((line) => [line.slice(0, 6), BigInt(`0x${line.slice(8)}`)]));
      // Signals 32 and 33 are glibc's own (and musl's): its posix_spawn leaves them ignored in the
      // child, and every program's C library installs its handlers for them at start.
      const libcSignals = (1n << 31n) | (1n << 32n);
      expect({ blocked: masks.get('SigBlk'), ignored: masks.get('SigIgn')! & ~libcSignals }).toEqual({ blocked: 0n, ignored: 0n });
    });

    it('gives the child a closed stdin, so reading it ends at once', async () => {
      const output = new OutputCapture(1024);
      const result = await runner.run(spec([fixture('read-stdin.sh')], { timeoutMs: 5_000 }), { output });
      expect(result).toMatchObject({ exitCode: 0, timedOut: false });
      expect(textOf(output).trim()).toBe('stdin bytes: 0');
    });
  });

  describe('ProcessRunner spawn errors', () => {
    it('resolves with an ENOENT error text when the program does not exist', async () => {
      const result = await runner.run(spec(['cronwarden-no-such-program']));
      expect(result).toMatchObject({ exitCode: null, signal: null, pid: null });
      expect(result.error).toMatch(/cronwarden-no-such-program ENOENT: program not found/);
    });

    it('resolves with an EACCES error text when the file is not executable', async () => {
      const result = await runner.run(spec([fixture('not-executable.sh')]));
      expect(result).toMatchObject({ exitCode: null, pid: null });
      expect(result.error).toMatch(/EACCES/);
    });

    it('names the working directory when it does not exist', async () => {
      const result = await runner.run(spec([fixture('exit-0.sh')], { cwd: join(tmp, 'missing') }));
      expect(result.error).toBe(`working directory ${join(tmp, 'missing')} does not exist (ENOENT)`);
    });

    it('names the working directory when it is a file', async () => {
      const result = await runner.run(spec([fixture('exit-0.sh')], { cwd: fixture('exit-0.sh') }));
      expect(result.error).toMatch(/is not a directory \(ENOTDIR\)/);
    });

    it('refuses an argument holding a NUL byte, as spawn() does', async () => {
      const result = await runner.run(spec([fixture('exit-0.sh'), 'a\0b']));
      expect(result).toMatchObject({ exitCode: null, pid: null });
      expect(result.error).toMatch(/must be a string without null bytes/);
    });

    it('refuses an empty command', async () => {
      expect((await runner.run(spec([]))).error).toBe('empty command');
    });
  });

  describe('ProcessRunner program lookup', () => {
    const bin = fixture('bin');

    it("finds a program without a slash along the PATH of the child's environment", async () => {
      const output = new OutputCapture(1024);
      const result = await runner.run(spec(['cw-on-path', 'x'], { env: { PATH: `/nonexistent:${bin}:/usr/bin:/bin` } }), { output });
      expect(result).toMatchObject({ exitCode: 0, error: null });
      expect(textOf(output)).toBe('found on PATH: x\n');
    });

    it('runs an executable file without a #! line with /bin/sh, as execvp does', async () => {
      const output = new OutputCapture(1024);
      const result = await runner.run(spec([join(bin, 'cw-no-shebang'), 'y']), { output });
      expect(result).toMatchObject({ exitCode: 5, error: null });
      expect(textOf(output)).toBe(`no #! line: ${join(bin, 'cw-no-shebang')} y\n`);
    });

    it('resolves a relative program against the working directory it runs in', async () => {
      const output = new OutputCapture(1024);
      const result = await runner.run(spec(['./cw-on-path', 'z'], { cwd: bin }), { output });
      expect(result).toMatchObject({ exitCode: 0, error: null });
      expect(textOf(output)).toBe('found on PATH: z\n');
    });
  });

  describe('ProcessRunner timeouts and cancels', () => {
    it('stops a program past its timeout with SIGTERM', async () => {
      const result = await runner.run(spec([fixture('sleep.sh'), '30'], { timeoutMs: 300, killGraceMs: 5_000 }));

      expect(result).toMatchObject({ timedOut: true, cancelled: false, forceKilled: false, signal: 'SIGTERM', exitCode: null });
      expect(result.durationMs).toBeGreaterThanOrEqual(300);
      expect(result.durationMs).toBeLessThan(300 + 2_000);
    });

    it('sends SIGKILL after the grace to a program that ignores SIGTERM', async () => {
      const output = new OutputCapture(1024);
      const result = await runner.run(spec([fixture('ignore-term.sh'), '30'], { timeoutMs: 800, killGraceMs: 300 }), { output });

      expect(textOf(output)).toBe('ready\n');
      expect(result).toMatchObject({ timedOut: true, forceKilled: true, signal: 'SIGKILL' });
      expect(result.durationMs).toBeGreaterThanOrEqual(800 + 300);
      expect(result.durationMs).toBeLessThan(800 + 300 + 2_000);
    });

    it('cancels on abort and kills the whole process group, grandchildren included', async () => {
      const pidFile = pidFileFor('grandchild-cancel');
      const output = new OutputCapture(1024);
      const abort = new AbortController();
      output.onData((_stream, data) => data.toString().includes('ready') && abort.abort());
      // A long grace: where PID 1 reaps orphans slowly, the dead grandchild stays a zombie (still "in the group") for a while.
      const result = await runner.run(spec([fixture('spawn-grandchild.sh'), pidFile], { killGraceMs: 5_000 }), { output, signal: abort.signal });

      expect(result).toMatchObject({ cancelled: true, timedOut: false, forceKilled: false, signal: 'SIGTERM' });
      const grandchild = Number(readFileSync(pidFile, 'utf8'));
      await waitFor(`grandchild ${grandchild} to be gone`, () => processGone(grandchild));
      expect(processGroupAlive(result.pid!)).toBe(false);
    });

    it('does not start the program when the signal is already aborted', async () => {
      const abort = new AbortController();
      abort.abort();
      let spawned = false;
      const result = await runner.run(spec([fixture('exit-0.sh')]), { signal: abort.signal, onSpawn: () => (spawned = true) });
      expect(result).toMatchObject({ cancelled: true, pid: null, exitCode: null });
      expect(spawned).toBe(false);
    });
  });

  describe('ProcessRunner cleanup after the leader exits', () => {
    it('kills group members the program left behind when it exits', async () => {
      const pidFile = pidFileFor('grandchild-orphan');
      const result = await runner.run(spec([fixture('spawn-grandchild.sh'), pidFile, '0']));

      expect(result).toMatchObject({ exitCode: 0, forceKilled: false });
      expect(result.durationMs).toBeLessThan(PIPE_CLOSE_WAIT_MS);
      const grandchild = Number(readFileSync(pidFile, 'utf8'));
      await waitFor(`grandchild ${grandchild} to be gone`, () => processGone(grandchild));
    });

    it('stops waiting for pipes held open by a process that left the group', async () => {
      const pidFile = pidFileFor('escaped');
      const output = new OutputCapture(1024);
      try {
        const result = await runner.run(spec([fixture('leave-group.sh'), pidFile, '30']), { output });
        expect(result.exitCode).toBe(0);
        expect(textOf(output)).toBe('ready\n');
        expect(result.durationMs).toBeGreaterThanOrEqual(PIPE_CLOSE_WAIT_MS);
        expect(result.durationMs).toBeLessThan(PIPE_CLOSE_WAIT_MS + 2_000);
      } finally {
        const escaped = Number(readFileSync(pidFile, 'utf8'));
        if (escaped > 1 && !processGone(escaped)) process.kill(escaped, 'SIGKILL');
      }
    });
  });

  describe('ProcessRunner output', () => {
    it('drains 50 MiB of output to the end while storing no more than the cap', async () => {
      const output = new OutputCapture(256 * 1024);
      const result = await runner.run(spec(['node', fixture('flood.mjs'), '50']), { output });

      expect(result).toMatchObject({ exitCode: 0, outputBytes: 50 * 1024 * 1024, outputTruncated: true });
      expect(output.storedBytes).toBe(256 * 1024);
      expect(textOf(output).endsWith('x\nx\n')).toBe(true);
    });

    it('reads a flood past the cap without allocating a buffer per read', async () => {
      const maxBytes = 1024 * 1024;
      const output = new OutputCapture(maxBytes);
      const before = process.memoryUsage().arrayBuffers;
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - before)), 2);
      const result = await runner.run(spec(['head', '-c', String(256 * 1024 * 1024), '/dev/zero']), { output });
      clearInterval(sampler);

      expect(result).toMatchObject({ exitCode: 0, outputBytes: 256 * 1024 * 1024, outputTruncated: true });
      expect(output.storedBytes).toBe(maxBytes);
      // The capture's own buffers and the read buffer, not the 64 KiB of every read.
      expect(peak).toBeLessThanOrEqual(2 * maxBytes + 4 * PIPE_READ_BYTES);
    });

    it('creates its own capture from maxOutputBytes when none is given', async () => {
      const result = await runner.run(spec(['node', fixture('flood.mjs'), '1'], { maxOutputBytes: 1000 }));
      expect(result).toMatchObject({ exitCode: 0, outputBytes: 1024 * 1024, outputTruncated: true });
    });

    it('keeps the order of interleaved stdout and stderr lines in seq order', async () => {
      const output = new OutputCapture(4096);
      await runner.run(spec([fixture('interleave.sh')]), { output });

      const lines = output.chunks().sort((a, b) => a.seq - b.seq).map((chunk) => `${chunk.stream} ${chunk.data.toString().trim()}`);
      expect(lines).toEqual([1, 2, 3, 4].flatMap((i) => [`stdout out ${i}`, `stderr err ${i}`]));
    });

    it('lets a live viewer see output while the run is still going', async () => {
      const output = new OutputCapture(4096);
      let finished = false;
      let sawFirstStepWhileRunning = false;
      output.onData((_stream, data) => {
        if (data.toString().includes('step 1/') && !finished) sawFirstStepWhileRunning = true;
      });
      const result = await runner.run(spec(['node', fixture('progress.mjs'), '3', '100']), { output });
      finished = true;

      expect(result.exitCode).toBe(0);
      expect(sawFirstStepWhileRunning).toBe(true);
      expect(textOf(output)).toBe('step 1/3\nstep 2/3\nstep 3/3\n');
    });
  });

  describe('ProcessRunner child environment', () => {
    const daemonEnv = { PATH: process.env.PATH, HOME: '/root', DATABASE_URL: 'postgres://secret@db/x', JWT_SECRET: 'hunter2' };
    const run = { runId: 'run-42', jobId: 'main_pipeline_v2', trigger: 'manual', scheduledFor: null, attempt: 1, params: { video: 'a b.mp4' } };

    async function childEnv(passEnv: string[]): Promise<Map<string, string>> {
      const output = new OutputCapture(64 * 1024);
      const env = buildChildEnv({ daemonEnv, passEnv, pipelineEnv: { STAGE: 'encode' }, run });
      await runner.run(spec([fixture('echo-env.sh')], { env }), { output });
      return new Map(textOf(output).trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    }

    it('does not hand the daemon secrets to the child, but does hand it the run variables', async () => {
      const env = await childEnv([]);
      expect(env.has('DATABASE_URL')).toBe(false);
      expect(env.has('JWT_SECRET')).toBe(false);
      expect(env.get('JOB_INPUT')).toBe('{"video":"a b.mp4"}');
      expect(env.get('CRONWARDEN_RUN_ID')).toBe('run-42');
      expect(env.get('CRONWARDEN_JOB_ID')).toBe('main_pipeline_v2');
      expect(env.get('CRONWARDEN_TRIGGER')).toBe('manual');
      expect(env.get('CRONWARDEN_ATTEMPT')).toBe('1');
      expect(env.get('STAGE')).toBe('encode');
    });

    it('hands a secret to the child when the pipeline lists it in passEnv', async () => {
      const env = await childEnv(['DATABASE_URL']);
      expect(env.get('DATABASE_URL')).toBe('postgres://secret@db/x');
      expect(env.has('JWT_SECRET')).toBe(false);
    });
  });
});

describe('process group helpers', () => {
  const runner = new ProcessRunner();

  it('refuse pids that would address our own group or every process', () => {
    expect(killProcessGroup(0, 'SIGTERM')).toBe(false);
    expect(killProcessGroup(1, 'SIGTERM')).toBe(false);
    expect(killProcessGroup(Number.NaN, 'SIGTERM')).toBe(false);
    expect(processGroupAlive(0)).toBe(false);
  });

  it('report a finished group as gone instead of throwing', async () => {
    const result = await runner.run(spec([fixture('exit-0.sh')]));
    await waitFor('the group to be gone', () => !processGroupAlive(result.pid!));
    expect(killProcessGroup(result.pid!, 'SIGTERM')).toBe(false);
  });

  it('leave the stack trace limit as they found it, whatever the answer', () => {
    const before = Error.stackTraceLimit;
    expect(processGroupAlive(2 ** 22 + 7)).toBe(false);
    expect(Error.stackTraceLimit).toBe(before);
    expect(() => killProcessGroup(2 ** 22 + 7, 'SIGNOPE' as NodeJS.Signals)).toThrow();
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('with a stack').stack).toContain('process-runner.spec');
  });
});
