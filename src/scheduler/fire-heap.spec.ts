import fc from 'fast-check';
import { FireHeap, type FireEntry } from './fire-heap.js';

type Op =
  | { kind: 'upsert'; jobId: string; at: number }
  | { kind: 'remove'; jobId: string }
  | { kind: 'pop' };

/** The model: every job's entry in a plain Map; the earliest is found by sorting. */
function earliest(model: Map<string, number>): FireEntry | undefined {
  const sorted = [...model].map(([jobId, at]) => ({ jobId, at }))
    .sort((x, y) => x.at - y.at || (x.jobId < y.jobId ? -1 : x.jobId > y.jobId ? 1 : 0));
  return sorted[0];
}

// A small id and time space, so sequences hit replacements, removals of present jobs and ties.
const jobId = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('upsert' as const), jobId, at: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ kind: fc.constant('remove' as const), jobId }),
  fc.record({ kind: fc.constant('pop' as const) }),
);

describe('FireHeap', () => {
  it('behaves like a sorted list of one entry per job under any sequence of upserts, removals and pops', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const heap = new FireHeap();
      const model = new Map<string, number>();
      for (const step of ops) {
        if (step.kind === 'upsert') {
          heap.upsert(step.jobId, step.at);
          model.set(step.jobId, step.at);
        } else if (step.kind === 'remove') {
          expect(heap.remove(step.jobId)).toBe(model.delete(step.jobId));
        } else {
          const expected = earliest(model);
          expect(heap.pop()).toEqual(expected);
          if (expected) model.delete(expected.jobId);
        }
        expect(heap.size).toBe(model.size);
        expect(heap.peek()).toEqual(earliest(model));
        for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
          expect(heap.has(id)).toBe(model.has(id));
          expect(heap.atOf(id)).toBe(model.get(id));
        }
      }
    }), { numRuns: 200 });
  });

  it('pops 100,000 jobs in time order after their entries were moved around', () => {
    const heap = new FireHeap();
    const count = 100_000;
    // A fixed permutation of the instants (7919 is prime and coprime to the count).
    for (let i = 0; i < count; i++) heap.upsert(`job-${i}`, ((i * 7919) % count) * 1000);
    for (let i = 0; i < count; i += 2) heap.upsert(`job-${i}`, heap.atOf(`job-${i}`)! + 500);
    for (let i = 0; i < count; i += 10) heap.remove(`job-${i}`);
    expect(heap.size).toBe(count - count / 10);

    const popped: number[] = [];
    for (let entry = heap.pop(); entry; entry = heap.pop()) popped.push(entry.at);
    expect(popped).toHaveLength(count - count / 10);
    expect(popped.every((at, i) => i === 0 || popped[i - 1] <= at)).toBe(true);
    expect(heap.size).toBe(0);
  });

  it('returns nothing from peek and pop when empty', () => {
    const heap = new FireHeap();
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    expect(heap.remove('missing')).toBe(false);
  });

  it('rejects an instant that is not a finite number, leaving the heap unchanged', () => {
    const heap = new FireHeap();
    heap.upsert('a', 5);
    expect(() => heap.upsert('a', Number.NaN)).toThrow(RangeError);
    expect(() => heap.upsert('b', Infinity)).toThrow(/finite/);
    expect(heap.peek()).toEqual({ jobId: 'a', at: 5 });
    expect(heap.size).toBe(1);
  });
});
