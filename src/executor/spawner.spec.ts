import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutputCapture } from './output-capture.js';
import { PIPE_CLOSE_WAIT_MS, ProcessRunner, type RunSpec } from './process-runner.js';
import { textOf } from '../../test/support/output.js';
import { processExists } from '../../test/support/processes.js';
import { builtExecHelper } from '../../test/support/exec-helper.js';
import { DAEMON_NODE_FLAGS } from '../common/node-flags.js';
import { ForkedSpawner, spawnerExecArgv } from './spawner.js';

// What ProcessRunner does with either spawner is in process-runner.spec.ts; here, what is the
// spawner process's own: who the parent is, and what happens when the helper is signalled or dies.
const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

const shell = (script: string): RunSpec => ({ command: [script], shell: true, cwd: fixtures, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeoutMs: 20_000, killGraceMs: 2_000, maxOutputBytes: 1024 * 1024 });

const commandOf = (pid: number): string => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 4 (ppid) is the second after the command name, which may hold spaces and ')'.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

async function waitUntilGone(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (processExists(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still there after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Runs `attempt` until its command ended within the spawner's quick window (it answers whether it
 * did), at most five times: a loaded machine may start a command too slowly (10 ms, forks included)
 * and take the slow path, which these tests are not about.
 */
async function onQuickPath(attempt: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 5; i++) if (await attempt()) return;
  throw new Error('no command of five ended within the spawner quick window');
}

describe.each([
  ['through cronwarden-exec', builtExecHelper()],
  ["with Node's spawn()", null],
])('ForkedSpawner starting commands %s', (_how, execHelper) => {
  // One helper process, so that the tests below know which one started a command.
  const spawner = new ForkedSpawner(1, execHelper);
  const runner = new ProcessRunner(spawner);
  afterAll(() => spawner.onApplicationShutdown());

  /** The helper process that started the command `pid` (through cronwarden-exec, its parent's parent). */
  function starterOf(pid: number): number {
    const parent = parentOf(pid);
    if (execHelper === null) return parent;
    expect(commandOf(parent)).toBe('cronwarden-exec');
    return parentOf(parent);
  }

  it('starts commands from its helper process, not by forking the caller', async () => {
    let parent: number | null = null;
    let starter: number | null = null;
    const result = await runner.run(shell('sleep 0.2'), { onSpawn: (pid) => ((parent = parentOf(pid)), (starter = starterOf(pid))) });

    expect(result).toMatchObject({ exitCode: 0, error: null });
    expect(spawner.helperPid).not.toBeNull();
    expect(starter).toBe(spawner.helperPid);
    expect(parent).not.toBe(process.pid);
    // Through cronwarden-exec the command is not a fork of the helper process (a Node process) but a child of the small one.
    expect(commandOf(parent!)).toBe(execHelper === null ? 'cronwarden-spaw' : 'cronwarden-exec');
  });

  it('shares a burst of commands between its helper processes', async () => {
    const two = new ForkedSpawner(2, execHelper);
    two.onModuleInit();
    try {
      const parents = await Promise.all(Array.from({ length: 8 }, async () => {
        let parent: number | null = null;
        const result = await new ProcessRunner(two).run(shell('sleep 0.2'), { onSpawn: (pid) => (parent = starterOf(pid)) });
        expect(result).toMatchObject({ exitCode: 0, error: null });
        return parent;
      }));
      expect(two.helperPids).toHaveLength(2);
      expect(new Set(parents)).toEqual(new Set(two.helperPids));
    } finally {
      two.onApplicationShutdown();
    }
  });

  it('hands over every byte of a command that wrote and exited before we took its pipes', async () => {
    const output = new OutputCapture(1024 * 1024);
    const running = runner.run(shell('head -c 1000 /dev/zero; head -c 10 /dev/zero >&2'), { output });
    // Busy, we acknowledge no handle for a while: the command is long gone when we take its pipes.
    for (const until = Date.now() + 500; Date.now() < until; );
    expect(await running).toMatchObject({ exitCode: 0, outputBytes: 1010 });
  });

  it('ends a command without output that exits at once without waiting for its pipes', async () => {
    for (let i = 0; i < 5; i++) {
      const result = await runner.run({ ...shell(''), command: ['/bin/true'], shell: false });
      expect(result).toMatchObject({ exitCode: 0, error: null });
      // Pipes that closed before the run looked at them must count as closed, not be waited for.
      expect(result.durationMs).toBeLessThan(PIPE_CLOSE_WAIT_MS);
    }
  });

  it('still reports exit statuses after the helper got SIGTERM, SIGINT and SIGHUP', async () => {
    const helper = spawner.helperPid!;
    const result = await runner.run(shell('sleep 0.3; exit 7'), {
      onSpawn: () => ['SIGTERM', 'SIGINT', 'SIGHUP'].forEach((signal) => process.kill(helper, signal)),
    });

    expect(result).toMatchObject({ exitCode: 7, error: null });
    expect(spawner.helperPid).toBe(helper);
  });

  it('lets a running command finish with its output when the helper dies, says its exit status is lost, and starts a new helper', async () => {
    const first = spawner.helperPid!;
    const output = new OutputCapture(1024);
    const result = await runner.run(shell('echo before; sleep 0.3; echo after; exit 5'), { output, onSpawn: () => process.kill(first, 'SIGKILL') });

    expect(result.exitCode).toBeNull();
    expect(result.error).toBe('the spawner process exited (signal SIGKILL) while the command ran: its exit status is unknown');
    expect(textOf(output)).toBe('before\nafter\n');

    const next = await runner.run(shell('exit 3'));
    expect(next).toMatchObject({ exitCode: 3, error: null });
    expect(spawner.helperPid).not.toBe(first);
  });

  it('fails a command it could not start because the helper died, with a clear error', async () => {
    process.kill(spawner.helperPid!, 'SIGKILL');
    const result = await runner.run(shell('exit 0'));

    expect(result).toMatchObject({ exitCode: null, pid: null });
    expect(result.error).toMatch(/spawner process/);
    expect((await runner.run(shell('exit 4'))).exitCode).toBe(4);
  });

  it('gives no more commands to a helper whose channel failed, though its exit is not seen yet', async () => {
    const own = new ForkedSpawner(1, execHelper);
    own.onModuleInit();
    const dead = own.helperPid!;
    process.kill(dead, 'SIGKILL');
    // Until the event loop turns, the helper still looks connected: block it until the helper is a zombie.
    while (!readFileSync(`/proc/${dead}/stat`, 'utf8').includes(') Z ')) { /* wait */ }
    const request = { program: '/bin/sh', args: ['-c', 'exit 9'], cwd: fixtures, env: {} };
    // The write fails at once (EPIPE); its callback and the awaits below run before the loop sees the exit.
    await expect(own.spawn(request)).rejects.toThrow(/could not ask the spawner process to start the command/);
    const next = await own.spawn(request);

    expect(await next.exited).toEqual({ code: 9, signal: null });
    expect(own.helperPid).not.toBe(dead);
    own.onApplicationShutdown();
  });

  it('reports a command that ends at once in one message with its output, and no pipes to read', async () => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    await onQuickPath(async () => {
      const child = await spawner.spawn({ program: '/bin/sh', args: ['-c', 'printf one; printf two >&2; exit 3'], cwd: fixtures, env });
      if (!child.ended) {
        child.stdout?.resume();
        child.stderr?.resume();
        await child.exited;
        return false;
      }
      expect(child).toMatchObject({ ended: true, stdout: null, stderr: null });
      await expect(child.exited).resolves.toEqual({ code: 3, signal: null });
      const text = (stream: string) => Buffer.concat(child.output.filter((piece) => piece.stream === stream).map((piece) => piece.data)).toString();
      expect([text('stdout'), text('stderr')]).toEqual(['one', 'two']);
      return true;
    });
  });

  it('keeps the outcome of a command that had ended when it was handed over, though an abort came meanwhile', async () => {
    // The abort comes while the spawner starts the command.
    await onQuickPath(async () => {
      const controller = new AbortController();
      let ended = false;
      const running = runner.run({ ...shell(''), command: ['/bin/true'], shell: false }, { signal: controller.signal, onSpawn: (_pid, started) => (ended = started.ended) });
      controller.abort('too late');
      const result = await running;
      if (!ended) return false;
      expect(result).toMatchObject({ exitCode: 0, cancelled: false, error: null });
      return true;
    });
  });

  it('hands over the pipes of a command still running, with what was read of them first', async () => {
    const output = new OutputCapture(1024 * 1024);
    let ended: boolean | null = null;
    const result = await runner.run(shell('echo early; sleep 0.2; echo late'), { output, onSpawn: (_pid, started) => (ended = started.ended) });

    expect(ended).toBe(false);
    expect(result).toMatchObject({ exitCode: 0, error: null });
    expect(textOf(output)).toBe('early\nlate\n');
  });

  it('hands over the pipes of a command that ends at once but writes more than one message should carry', async () => {
    const child = await spawner.spawn({ program: '/bin/sh', args: ['-c', 'head -c 300000 /dev/zero'], cwd: fixtures, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });

    expect(child.ended).toBe(false);
    expect(child.stdout).not.toBeNull();
    const result = await runner.run(shell('head -c 300000 /dev/zero'));
    expect(result).toMatchObject({ exitCode: 0, outputBytes: 300_000 });
    child.stdout!.resume();
    child.stderr?.resume();
    await child.exited;
  });

  it('reports a program that cannot be started with the system error code', async () => {
    await expect(spawner.spawn({ program: 'cronwarden-no-such-program', args: [], cwd: fixtures, env: {} })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('gives a command pipes for its stdout and stderr, not the socket pairs Node makes', async () => {
    // A pipe takes 8 KiB writes three times as fast as a Unix socket (the flood in docs/performance.md).
    const output = new OutputCapture(1024);
    const result = await runner.run(shell('for fd in 1 2; do if [ -p /dev/fd/$fd ]; then echo "$fd pipe"; elif [ -S /dev/fd/$fd ]; then echo "$fd socket"; fi; done'), { output });
    expect(result).toMatchObject({ exitCode: 0, error: null });
    expect(textOf(output)).toBe('1 pipe\n2 pipe\n');
  });

  it('lets a command write to /dev/stdout and /dev/stderr by name, which a socket refuses', async () => {
    const output = new OutputCapture(1024);
    const result = await runner.run(shell('echo out > /dev/stdout && echo err > /dev/stderr'), { output });
    expect(result).toMatchObject({ exitCode: 0, error: null });
    expect(output.chunks().map((chunk) => `${chunk.stream} ${chunk.data.toString().trim()}`)).toEqual(['stdout out', 'stderr err']);
  });

  it('gives pipes to every command of a burst larger than its stock of FIFOs, and none of them to another command', async () => {
    const outputs = Array.from({ length: 300 }, () => new OutputCapture(1024));
    // Each counts the FIFOs it has open: its own stdout and stderr, no other command's.
    const results = await Promise.all(outputs.map((output) => runner.run(shell('[ -p /dev/fd/1 ] && [ -p /dev/fd/2 ] && ls -l /proc/$$/fd 2>/dev/null | grep -c cronwarden-fifos'), { output })));
    expect(results.every((result) => result.exitCode === 0)).toBe(true);
    const counts = new Set(outputs.map((output) => textOf(output).trim()));
    expect([...counts]).toEqual(['2']);
  });

  it('keeps its FIFOs in a directory of its own that goes with it, and removes one left by a helper that was killed', async () => {
    const root = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    // A helper killed with SIGKILL leaves its directory; pid 2^22 + 1 is above Linux's pid_max, so never alive.
    const leftover = join(root, `cronwarden-fifos-${2 ** 22 + 1}-test`);
    mkdirSync(leftover, { recursive: true });
    const own = new ForkedSpawner(1, execHelper);
    own.onModuleInit();
    const helper = own.helperPid!;
    await new ProcessRunner(own).run(shell('true'));
    const ours = readdirSync(root).filter((name) => name.startsWith(`cronwarden-fifos-${helper}-`));
    expect(ours).toHaveLength(1);
    expect(existsSync(leftover)).toBe(false);

    own.onApplicationShutdown();
    await waitUntilGone(helper);
    expect(existsSync(join(root, ours[0]))).toBe(false);
  });

  it('ends its helper at shutdown', async () => {
    const own = new ForkedSpawner(1, execHelper);
    own.onModuleInit();
    const helper = own.helperPid!;
    expect(processExists(helper)).toBe(true);
    let parent = 0;
    await new ProcessRunner(own).run(shell('sleep 0.1'), { onSpawn: (pid) => (parent = parentOf(pid)) });

    own.onApplicationShutdown();
    await waitUntilGone(helper);
    // cronwarden-exec goes with it.
    await waitUntilGone(parent);
  });
});

describe('ForkedSpawner through cronwarden-exec', () => {
  const spawner = new ForkedSpawner(1, builtExecHelper());
  const runner = new ProcessRunner(spawner);
  afterAll(() => spawner.onApplicationShutdown());

  it('lets a running command finish with its output when cronwarden-exec dies, says its exit status is lost, and starts a new helper', async () => {
    const first = spawner.helperPid!;
    const output = new OutputCapture(1024);
    const result = await runner.run(shell('echo before; sleep 0.3; echo after; exit 5'), { output, onSpawn: (pid) => process.kill(parentOf(pid), 'SIGKILL') });

    expect(result.exitCode).toBeNull();
    expect(result.error).toBe('the spawner process exited (code 1) while the command ran: its exit status is unknown');
    expect(textOf(output)).toBe('before\nafter\n');
    const next = await runner.run(shell('exit 3'));
    expect(next).toMatchObject({ exitCode: 3, error: null });
    expect(spawner.helperPid).not.toBe(first);
  });

  it('starts a new spawner process, with a new cronwarden-exec, when its cronwarden-exec died while idle', async () => {
    await runner.run(shell('exit 0'));
    const first = spawner.helperPid!;
    const exec = readFileSync(`/proc/${first}/task/${first}/children`, 'utf8').trim().split(' ').map(Number).find((pid) => commandOf(pid) === 'cronwarden-exec');
    process.kill(exec!, 'SIGKILL');
    await waitUntilGone(first);

    let parent = 0;
    const result = await runner.run(shell('sleep 0.1; exit 2'), { onSpawn: (pid) => (parent = parentOf(pid)) });
    expect(result).toMatchObject({ exitCode: 2, error: null });
    expect(commandOf(parent)).toBe('cronwarden-exec');
    expect(parent).not.toBe(exec);
    expect(spawner.helperPid).not.toBe(first);
  });

  it("starts commands with Node's spawn() when cronwarden-exec cannot be started", async () => {
    const own = new ForkedSpawner(1, join(fixtures, 'no-such-exec-helper'));
    own.onModuleInit();
    try {
      let parent = 0;
      const result = await new ProcessRunner(own).run(shell('sleep 0.1; exit 6'), { onSpawn: (pid) => (parent = parentOf(pid)) });
      expect(result).toMatchObject({ exitCode: 6, error: null });
      expect(parent).toBe(own.helperPid);
    } finally {
      own.onApplicationShutdown();
    }
  });

  it('takes requests larger than one read of its input, and environments of many variables', async () => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    for (let i = 0; i < 2_000; i++) env[`CW_VARIABLE_${i}`] = `value ${i} ${'x'.repeat(200)}`;
    const output = new OutputCapture(1024);
    const result = await runner.run({ ...shell('echo "$CW_VARIABLE_1999" | cut -c1-10'), env }, { output });
    expect(result).toMatchObject({ exitCode: 0, error: null });
    expect(textOf(output)).toBe('value 1999\n');
  });
});

describe("the spawner process's node flags", () => {
  it("are the daemon's, without a debugger's, with the shipped ones", () => {
    expect(spawnerExecArgv(['--inspect=9229', '--max-old-space-size=512'])).toEqual(['--max-old-space-size=512', ...DAEMON_NODE_FLAGS]);
    expect(spawnerExecArgv(['--no-memory-reducer', '--debug-port=1'])).toEqual(['--no-memory-reducer']);
  });
});
