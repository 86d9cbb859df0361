import { lastProgress, parseProgressLine, ProgressTracker } from './progress.js';

describe('parseProgressLine', () => {
  it('reads a percentage and an optional note', () => {
    expect(parseProgressLine('::progress 45')).toEqual({ progress: 45, note: null });
    expect(parseProgressLine('::progress 45 extracting frames')).toEqual({ progress: 45, note: 'extracting frames' });
    expect(parseProgressLine('::progress\t12.6%  two  spaces \r')).toEqual({ progress: 13, note: 'two  spaces' });
  });

  it('ignores other lines and values out of range', () => {
    for (const line of ['progress 45', ' ::progress 45', '::progress', '::progress x', '::progress 101', 'step ::progress 3']) {
      expect(parseProgressLine(line)).toBeNull();
    }
  });
});

describe('lastProgress', () => {
  it('finds the last progress line, whatever follows it', () => {
    expect(lastProgress('::progress 10 a\nlog\n::progress 60 b\nmore log\n')).toEqual({ progress: 60, note: 'b' });
    expect(lastProgress('no progress here\n')).toBeNull();
    expect(lastProgress('')).toBeNull();
  });
});

describe('ProgressTracker', () => {
  it('follows lines split across pieces and reports only changes', () => {
    const tracker = new ProgressTracker();
    expect(tracker.write('::progr')).toEqual([]);
    expect(tracker.write('ess 30 fetch\nlog line\n')).toEqual([{ progress: 30, note: 'fetch' }]);
    expect(tracker.write('::progress 30 fetch\n')).toEqual([]);
    expect(tracker.write('::progress 90\n::progress 100 done\n')).toEqual([{ progress: 90, note: null }, { progress: 100, note: 'done' }]);
    expect(tracker.value).toEqual({ progress: 100, note: 'done' });
  });
});
