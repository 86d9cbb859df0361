/**
 * Durations (`250ms`, `30s`, `1h30m`) and sizes (`64KiB`, `10MB`) as operators write them in the
 * config file. Small parsers rather than `ms`/`bytes`: those accept neither combos nor both
 * binary and decimal size units.
 */

const DURATION_UNITS: Record<string, number> = {
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
};

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  tb: 1_000_000_000_000,
  kib: 1_024,
  mib: 1_024 ** 2,
  gib: 1_024 ** 3,
  tib: 1_024 ** 4,
};

// Longest unit first so `ms` is not read as `m` followed by a stray `s`.
const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)/y;
const SIZE_TEXT = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/**
 * Parses a duration into milliseconds: one or more `<number><unit>` parts, units `d h m s ms` from
 * largest to smallest, e.g. `250ms`, `30s`, `5h`, `1h30m`, `1d 12h`. A bare number is rejected
 * (seconds or milliseconds? nobody can tell), except `0`.
 * @throws Error with a readable reason on anything else.
 */
export function parseDuration(text: string | number): number {
  if (text === 0 || text === '0') return 0;
  if (typeof text === 'number') {
    throw new Error(`${text} has no unit; write it with one, e.g. ${text}s or ${text}ms`);
  }
  if (typeof text !== 'string') throw new Error(`expected a duration such as 30s, 5m or 1h30m`);
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    throw new Error(`"${text}" has no unit; write it with one, e.g. ${trimmed}s or ${trimmed}ms`);
  }
  const total = sumDurationParts(trimmed);
  if (total === null) {
    throw new Error(`"${text}" is not a duration; write e.g. 250ms, 30s, 5m, 5h, 2d or 1h30m`);
  }
  return total;
}

/** Adds up the parts of a duration, or null if the text is not a well-formed duration. */
function sumDurationParts(text: string): number | null {
  const order = Object.keys(DURATION_UNITS);
  let total = 0;
  let position = 0;
  let lastUnit = -1;
  while (position < text.length) {
    DURATION_PART.lastIndex = position;
    const match = DURATION_PART.exec(text);
    if (!match) return null;
    const unit = order.indexOf(match[2]);
    // `30m1h` or `1h1h` is most likely a typo: require each unit once, largest first.
    if (unit <= lastUnit) return null;
    lastUnit = unit;
    total += Number(match[1]) * DURATION_UNITS[match[2]];
    position = DURATION_PART.lastIndex;
    while (text[position] === ' ') position++;
  }
  const rounded = Math.round(total);
  return position === 0 || !Number.isSafeInteger(rounded) ? null : rounded;
}

/**
 * Parses a size into bytes: a bare number of bytes (`512`), or a number with a unit, binary
 * (`KiB MiB GiB TiB`, powers of 1024) or decimal (`kB MB GB TB`, powers of 1000), case-insensitive.
 * @throws Error with a readable reason on anything else.
 */
export function parseSize(text: string | number): number {
  if (typeof text === 'number') {
    if (Number.isSafeInteger(text) && text >= 0) return text;
    throw new Error(`${text} is not a whole number of bytes`);
  }
  if (typeof text !== 'string') throw new Error(`expected a size such as 512, 64KiB or 10MiB`);
  const match = SIZE_TEXT.exec(text.trim());
  const factor = match ? SIZE_UNITS[(match[2] || 'b').toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new Error(`"${text}" is not a size; write e.g. 512, 64KiB, 10MiB, 1GiB or 10MB`);
  }
  const bytes = Math.round(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new Error(`"${text}" is too large`);
  return bytes;
}

/** Formats milliseconds the way they are written in the config: `5h`, `1h30m`, `250ms`, `0ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  let rest = Math.round(Math.abs(ms));
  let text = '';
  for (const [unit, size] of Object.entries(DURATION_UNITS)) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return sign + (text || '0ms');
}

/** Formats bytes with the largest binary unit that divides them exactly: `10MiB`, `1500B`. */
export function formatSize(bytes: number): string {
  const units: Array<[string, number]> = [['TiB', 1_024 ** 4], ['GiB', 1_024 ** 3], ['MiB', 1_024 ** 2], ['KiB', 1_024]];
  for (const [unit, size] of units) {
    if (bytes !== 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
