import fc from 'fast-check';
import { formatDuration, formatSize, parseDuration, parseSize } from './durations.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['5h', 18_000_000],
    ['2d', 172_800_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['1d12h', 129_600_000],
    ['1m30s500ms', 90_500],
    ['1.5h', 5_400_000],
    [' 10 s ', 10_000],
    ['0s', 0],
    ['0', 0],
    [0, 0],
  ])('reads %p as %p milliseconds', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', /not a duration/],
    ['5', /"5" has no unit/],
    ['abc', /"abc" is not a duration/],
    ['4 hours', /"4 hours" is not a duration/],
    ['-5s', /not a duration/],
    ['5x', /not a duration/],
    ['1h30', /not a duration/],
    ['30m1h', /not a duration/],
    ['1h1h', /not a duration/],
  ])('rejects %p with a reason', (text, reason) => {
    expect(() => parseDuration(text)).toThrow(reason);
  });

  it('rejects a bare number other than 0 because its unit is ambiguous', () => {
    expect(() => parseDuration(30)).toThrow('30 has no unit; write it with one, e.g. 30s or 30ms');
  });

  it('reads back every duration it formats', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }), (ms) => parseDuration(formatDuration(ms)) === ms));
  });
});

describe('parseSize', () => {
  it.each([
    ['512', 512],
    [512, 512],
    ['0', 0],
    ['100B', 100],
    ['64KiB', 65_536],
    ['10MiB', 10_485_760],
    ['1GiB', 1_073_741_824],
    ['10MB', 10_000_000],
    ['1kB', 1_000],
    ['1KB', 1_000],
    ['10mib', 10_485_760],
    ['1.5 KiB', 1_536],
  ])('reads %p as %p bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([
    ['', /is not a size/],
    ['10 megs', /"10 megs" is not a size/],
    ['MiB', /is not a size/],
    ['-1KiB', /is not a size/],
    [1.5, /not a whole number of bytes/],
    [-1, /not a whole number of bytes/],
  ])('rejects %p with a reason', (text, reason) => {
    expect(() => parseSize(text)).toThrow(reason);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [250, '250ms'],
    [30_000, '30s'],
    [18_000_000, '5h'],
    [5_400_000, '1h30m'],
    [90_061_001, '1d1h1m1s1ms'],
  ])('writes %p ms as %p', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatSize', () => {
  it.each([
    [0, '0B'],
    [1_500, '1500B'],
    [1_024, '1KiB'],
    [10_485_760, '10MiB'],
    [1_073_741_824, '1GiB'],
  ])('writes %p bytes as %p', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });
});
