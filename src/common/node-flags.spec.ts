import { DAEMON_NODE_FLAGS, missingNodeFlags, withNodeFlags } from './node-flags.js';

describe("the daemon's node flags", () => {
  it('names the shipped flags a command line lacks', () => {
    expect(missingNodeFlags([])).toEqual(['--no-memory-reducer']);
    expect(missingNodeFlags(['--max-old-space-size=512', '--no-memory-reducer'])).toEqual([]);
  });

  it('adds them to a forked process once, after the flags it already has', () => {
    expect(withNodeFlags(['--max-old-space-size=512'])).toEqual(['--max-old-space-size=512', ...DAEMON_NODE_FLAGS]);
    expect(withNodeFlags([...DAEMON_NODE_FLAGS])).toEqual([...DAEMON_NODE_FLAGS]);
  });
});
