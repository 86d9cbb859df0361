import { WriteBatcher } from './write-batcher.js';

/** A write that records each batch and only completes when the test says so. */
function gatedWrite() {
  const batches: number[][] = [];
  const gates: Array<() => void> = [];
  const write = (items: number[]) => {
    batches.push(items);
    return new Promise<number[]>((resolve) => gates.push(() => resolve(items.map((n) => n * 10))));
  };
  return { batches, write, open: () => gates.shift()!() };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('WriteBatcher', () => {
  it('writes the first item at once and everything that arrives meanwhile in the next batch, each caller getting its own result', async () => {
    const { batches, write, open } = gatedWrite();
    const batcher = new WriteBatcher(write);
    const first = batcher.push(1);
    await settle();
    expect(batches).toEqual([[1]]);
    const later = [batcher.push(2), batcher.push(3), batcher.push(4)];
    await settle();
    expect(batches).toEqual([[1]]);
    open();
    await expect(first).resolves.toBe(10);
    await settle();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    open();
    await expect(Promise.all(later)).resolves.toEqual([20, 30, 40]);
  });

  it('splits a backlog into batches of at most maxBatch items', async () => {
    const { batches, write, open } = gatedWrite();
    const batcher = new WriteBatcher(write, 2);
    const all = [1, 2, 3, 4, 5].map((n) => batcher.push(n));
    for (let i = 0; i < 3; i++) {
      await settle();
      open();
    }
    await expect(Promise.all(all)).resolves.toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('writes the items pushed by one synchronous run of code in one batch', async () => {
    const { batches, write, open } = gatedWrite();
    const batcher = new WriteBatcher(write);
    const all = [1, 2, 3].map((n) => batcher.push(n));
    await settle();
    expect(batches).toEqual([[1, 2, 3]]);
    open();
    await expect(Promise.all(all)).resolves.toEqual([10, 20, 30]);
  });

  it('writes the items of a failed batch one by one, so only the bad one gets the error', async () => {
    const calls: number[][] = [];
    const batcher = new WriteBatcher(async (items: number[]) => {
      calls.push(items);
      if (items.includes(2)) throw new Error('value 2 out of range');
      return items;
    });
    const one = batcher.push(1);
    const two = batcher.push(2);
    const three = batcher.push(3);
    await expect(one).resolves.toBe(1);
    await expect(two).rejects.toThrow('value 2 out of range');
    await expect(three).resolves.toBe(3);
    await expect(batcher.push(4)).resolves.toBe(4);
    expect(calls).toEqual([[1, 2, 3], [1], [2], [3], [4]]);
  });
});
