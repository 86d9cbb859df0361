import { OutputFollower, type FollowedChunk } from './output-follower.js';

const chunk = (seq: number, text: string | Buffer, part: 'head' | 'tail' = 'head', stream: 'stdout' | 'stderr' = 'stdout'): FollowedChunk =>
  ({ seq, stream, part, data: Buffer.isBuffer(text) ? text : Buffer.from(text) });

describe('OutputFollower', () => {
  it('passes each head chunk on once, in order, and then reads after it', () => {
    const follower = new OutputFollower();
    expect(follower.cursor).toBe(1);
    expect(follower.take([chunk(1, 'a\n'), chunk(2, 'oops\n', 'head', 'stderr')])).toEqual([
      { kind: 'output', stream: 'stdout', text: 'a\n' },
      { kind: 'output', stream: 'stderr', text: 'oops\n' },
    ]);
    expect(follower.cursor).toBe(3);
    expect(follower.take([chunk(3, 'b\n')])).toEqual([{ kind: 'output', stream: 'stdout', text: 'b\n' }]);
    expect(follower.take([])).toEqual([]);
  });

  it('passes on only the growth of a tail chunk it has partly seen', () => {
    const follower = new OutputFollower();
    follower.take([chunk(1, 'head\n'), chunk(2, 'x', 'tail')]);
    expect(follower.cursor).toBe(2);
    expect(follower.take([chunk(2, 'xyz', 'tail'), chunk(3, 'err', 'tail', 'stderr')])).toEqual([
      { kind: 'output', stream: 'stdout', text: 'yz' },
      { kind: 'output', stream: 'stderr', text: 'err' },
    ]);
    expect(follower.take([chunk(3, 'err', 'tail', 'stderr')])).toEqual([]);
  });

  it('passes on the growth of a head chunk read from memory before it was stored', () => {
    const follower = new OutputFollower();
    follower.take([{ ...chunk(1, 'ab'), open: true }]);
    expect(follower.cursor).toBe(1);
    expect(follower.take([chunk(1, 'abcd'), chunk(2, 'e')])).toEqual([{ kind: 'output', stream: 'stdout', text: 'cd' }, { kind: 'output', stream: 'stdout', text: 'e' }]);
    expect(follower.cursor).toBe(3);
  });

  it('says output was dropped when chunks vanished from the tail before they were read', () => {
    const follower = new OutputFollower();
    follower.take([chunk(1, 'head\n'), chunk(2, 'old', 'tail')]);
    expect(follower.take([chunk(5, 'new', 'tail')])).toEqual([{ kind: 'dropped' }, { kind: 'output', stream: 'stdout', text: 'new' }]);
  });

  it('says output was dropped when the tail cut the front of the chunk it was following', () => {
    const follower = new OutputFollower();
    follower.take([chunk(1, 'abcdef', 'tail')]);
    expect(follower.take([chunk(1, 'ef', 'tail'), chunk(2, 'g', 'tail')])).toEqual([{ kind: 'dropped' }, { kind: 'output', stream: 'stdout', text: 'g' }]);
  });

  it('keeps a character split across chunks whole', () => {
    const follower = new OutputFollower();
    const euro = Buffer.from('€');
    expect(follower.take([chunk(1, euro.subarray(0, 1))])).toEqual([]);
    expect(follower.take([chunk(2, Buffer.concat([euro.subarray(1), Buffer.from('!')]))])).toEqual([{ kind: 'output', stream: 'stdout', text: '€!' }]);
    follower.take([chunk(3, euro.subarray(0, 2))]);
    expect(follower.finish()).toEqual([{ kind: 'output', stream: 'stdout', text: '\ufffd' }]);
  });
});
