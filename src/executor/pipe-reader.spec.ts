import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { readPipe } from './pipe-reader.js';
import { ForkedSpawner } from './spawner.js';

const spawner = new ForkedSpawner();
afterAll(() => spawner.onApplicationShutdown());

/** Polls `check` until it returns true; fails after `timeoutMs`. */
async function waitFor(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Reads `pipe` with readPipe, copying every read, and resolves what was read once the returned stream closed. */
async function readAll(pipe: Readable): Promise<Buffer> {
  const reads: Buffer[] = [];
  const reader = readPipe(pipe, (data) => reads.push(Buffer.from(data)));
  if (!reader.closed) await once(reader, 'close');
  return Buffer.concat(reads);
}

describe('readPipe', () => {
  it('reads a child writing past many reads to its end, every byte in order', async () => {
    const child = spawn('/bin/sh', ['-c', 'seq 1 200000'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const text = (await readAll(child.stdout)).toString();

    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBe(200_000);
    expect(lines.every((line, i) => line === String(i + 1))).toBe(true);
  });

  it('reads many pipes at once, each one\'s bytes its own although they share the read buffer', async () => {
    const children = ['a', 'b', 'c', 'd'].map((letter) => spawn('/bin/sh', ['-c', `yes ${letter} | head -c 4000000`], { stdio: ['ignore', 'pipe', 'ignore'] }));
    const outputs = await Promise.all(children.map((child) => readAll(child.stdout)));

    outputs.forEach((output, i) => {
      expect(output.length).toBe(4_000_000);
      expect(output.toString()).toBe(`${'abcd'[i]}\n`.repeat(2_000_000));
    });
  });

  it('hands over what the pipe read before it was taken, and ends with it when its end was read too', async () => {
    // It writes after the spawner process handed its pipes over (a command that ends at once has none to hand over).
    const child = await spawner.spawn({ program: '/bin/sh', args: ['-c', 'sleep 0.1; head -c 1000 /dev/zero'], cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    expect(child).toMatchObject({ ended: false, output: [] });
    const [stdout, stderr] = [child.stdout!, child.stderr!];
    await child.exited;
    // Nobody reads it yet: its bytes and its end wait in the Socket the IPC channel made, as when the other pipe comes late.
    await waitFor('the end of the pipe', () => (stdout as unknown as { _readableState: { ended: boolean } })._readableState.ended);

    const started = Date.now();
    expect((await readAll(stdout)).length).toBe(1000);
    expect(Date.now() - started).toBeLessThan(1_000);
    await readAll(stderr);
  }, 10_000);

  it('reads a stream that is no pipe through its data events', async () => {
    expect((await readAll(Readable.from([Buffer.from('one '), Buffer.from('two')]))).toString()).toBe('one two');
  });
});
