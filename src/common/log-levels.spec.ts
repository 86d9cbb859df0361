import { logsAt } from './log-levels.js';

describe('logsAt', () => {
  it('writes request lines (info) at info and above, not at warn or error', () => {
    expect(['error', 'warn', 'info', 'verbose', 'debug'].map((level) => logsAt(level, 'info'))).toEqual([false, false, true, true, true]);
  });

  it('writes poll lines (verbose) only at verbose and debug', () => {
    expect(['error', 'warn', 'info', 'verbose', 'debug'].map((level) => logsAt(level, 'verbose'))).toEqual([false, false, false, true, true]);
  });
});
