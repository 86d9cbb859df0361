import { ConcurrencyLimit } from './concurrency-limit.js';

/** A promise and the functions that settle it, for work a test finishes when it wants. */
function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimit', () => {
  it('runs at most `max` at once and starts the others in the order they came', async () => {
    const limit = new ConcurrencyLimit(2);
    const gates = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    const all = gates.map((gate, i) => limit.run(async () => {
      started.push(i);
      await gate.promise;
      return i;
    }));
    await tick();
    expect(started).toEqual([0, 1]);

    gates[1].resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[0].resolve();
    gates[2].resolve();
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    gates[3].resolve();
    gates[4].resolve();
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4]);
  });

  it('frees the slot of work that fails and passes the error on', async () => {
    const limit = new ConcurrencyLimit(1);
    const failing = limit.run(() => Promise.reject(new Error('database away')));
    const next = limit.run(async () => 'ran');
    await expect(failing).rejects.toThrow('database away');
    expect(await next).toBe('ran');
    expect(await limit.run(async () => 'again')).toBe('again');
  });
});
