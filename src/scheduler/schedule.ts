import { Cron } from 'croner';

/**
 * "When is this job due?" as pure functions of (cron expression or interval, time zone, last
 * scheduled instant, now). Cron instants come from croner; `every` instants are arithmetic.
 */

/** A job's schedule: exactly one of `cron` (5 or 6 fields, read in `timezone`) and `everyMs`. */
export type ScheduleSpec = { cron: string | null; everyMs: number | null; timezone: string };

export interface MissedInstants {
  /** The oldest `limit` instants in (anchor, now]. */
  instants: Date[];
  /** How many instants the range holds; a lower bound when `totalCapped`. */
  total: number;
  totalCapped: boolean;
  first: Date | null;
  last: Date | null;
}

export interface UpcomingInstant {
  at: Date;
  /** Wall time in the job's time zone, e.g. `2026-03-29T03:00:00+02:00`. */
  local: string;
  offset: string;
  /** Says when a DST change moved, skipped or doubled this instant's wall time. */
  dstNote: string | null;
}

/** The shortest interval accepted: cron's own resolution is one second. */
export const MIN_EVERY_MS = 1000;

/** Where `missedInstants` stops counting cron instants: croner takes ~30-50 µs for each. */
export const MISSED_COUNT_CAP = 10_000;

// A fixed start keeps validation pure; without a year field, a pattern that matches some date matches one after it.
const VALIDATION_FROM = new Date('2000-01-01T00:00:00Z');
const CRON_CACHE_SIZE = 1024;
const cronCache = new Map<string, Cron>();

/**
 * Why the schedule is unusable, or null when it is valid. Validates by computing a run, because
 * croner rejects a bad time zone only then.
 */
export function validateSchedule(spec: ScheduleSpec): string | null {
  if ((spec.cron === null) === (spec.everyMs === null)) return 'exactly one of cron and every must be set';
  const zoneProblem = timezoneProblem(spec.timezone);
  if (zoneProblem !== null) return zoneProblem;
  if (spec.everyMs !== null) {
    if (Number.isSafeInteger(spec.everyMs) && spec.everyMs >= MIN_EVERY_MS) return null;
    return `every must be a whole number of milliseconds of at least ${MIN_EVERY_MS} (1s), got ${spec.everyMs}`;
  }
  return cronProblem(spec.cron as string, spec.timezone);
}

/**
 * The first scheduled instant strictly after `after`. For `every`, instants are
 * `anchor + k * everyMs` (k any integer), with `after` as the anchor when there is none.
 * Null when a cron expression has no further run.
 */
export function nextFireAfter(spec: ScheduleSpec, after: Date, anchor: Date | null): Date | null {
  if (spec.everyMs !== null) {
    return new Date(nextEvery(spec.everyMs, after.getTime(), (anchor ?? after).getTime()));
  }
  return cronOf(spec).nextRun(after);
}

/**
 * The scheduled instants in (anchor, now], oldest first: at most `limit` of them listed, all of them
 * counted (cron instants up to `countCap`, beyond which `totalCapped` is set). For catch-up.
 */
export function missedInstants(
  spec: ScheduleSpec, anchor: Date, now: Date, limit: number, countCap = MISSED_COUNT_CAP,
): MissedInstants {
  if (spec.everyMs !== null) return missedEvery(spec.everyMs, anchor.getTime(), now.getTime(), limit);
  const cron = cronOf(spec);
  const instants: Date[] = [];
  let total = 0;
  let first: Date | null = null;
  let last: Date | null = null;
  for (let next = cron.nextRun(anchor); next !== null && next <= now; next = cron.nextRun(next)) {
    if (total === countCap) {
      // Counting on would block the event loop; croner still finds the last instant directly.
      last = cron.previousRuns(1, new Date(now.getTime() + 1))[0] ?? last;
      return { instants, total, totalCapped: true, first, last };
    }
    if (instants.length < limit) instants.push(next);
    first ??= next;
    last = next;
    total++;
  }
  return { instants, total, totalCapped: false, first, last };
}

/** The next `n` instants after `from`, each with its wall time in the job's time zone. */
export function upcoming(spec: ScheduleSpec, from: Date, n: number, anchor: Date | null): UpcomingInstant[] {
  const result: UpcomingInstant[] = [];
  let previous = from;
  for (let i = 0; i < n; i++) {
    const at = nextFireAfter(spec, previous, i === 0 ? anchor : previous);
    if (at === null) break;
    const offsetMs = offsetAt(at.getTime(), spec.timezone);
    result.push({
      at,
      local: wallText(at.getTime() + offsetMs) + offsetText(offsetMs),
      offset: offsetText(offsetMs),
      dstNote: spec.cron === null ? null : dstNote(spec.cron, spec.timezone, previous.getTime(), at.getTime()),
    });
    previous = at;
  }
  return result;
}

/** Why `timezone` is not a zone the scheduler can read cron expressions in, or null. The config loader asks too. */
export function timezoneProblem(timezone: string): string | null {
  const hint = 'use an IANA name such as "Europe/Berlin" or "UTC"';
  if (typeof timezone !== 'string' || timezone.trim() === '') return `timezone is required: ${hint}`;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return null;
  } catch {
    return `unknown time zone "${timezone}": ${hint}`;
  }
}

/**
 * Why `expression` cannot schedule a job in `timezone`, or null. The one check for a cron
 * expression, whether it comes from the API or the config file: two checks had drifted apart
 * before (the loader took a year field that then stopped the daemon at start).
 */
export function cronProblem(expression: string, timezone: string): string | null {
  const fields = expression.trim() === '' ? 0 : expression.trim().split(/\s+/).length;
  if (!expression.trim().startsWith('@') && fields !== 5 && fields !== 6) {
    // croner's own message offers seven fields, which the 5-or-6 mode then refuses.
    return `invalid cron expression "${expression}": it has ${fields} field${fields === 1 ? '' : 's'}; write 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)`;
  }
  let cron: Cron;
  try {
    cron = newCron(expression, timezone);
  } catch (error) {
    return `invalid cron expression "${expression}": ${cronerMessage(error)}`;
  }
  try {
    if (cron.nextRun(VALIDATION_FROM) === null) return `cron expression "${expression}" never matches any date`;
    return null;
  } catch (error) {
    return `cannot compute a run of "${expression}" in time zone "${timezone}": ${cronerMessage(error)}`;
  }
}

function cronerMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/^CronPattern: /, '');
}

/** The part of croner's parsed pattern that newCron trims; croner keeps it private. */
interface CronYears {
  _states?: { pattern?: { starYear?: unknown; year?: unknown } };
}

/** What a pattern without a year field holds as its years once trimmed: croner never reads it then. */
const NO_YEARS: readonly number[] = Object.freeze([]);

/**
 * A paused croner instance read as 5 or 6 fields. croner 11 gives every pattern a table of the
 * 10,000 years it may match (80 KiB), read only when the pattern has a year field, which 5 or 6
 * fields never have: it is dropped. Kept, the cache's 1,024 entries held 82 MB, and V8, seeing
 * those tables survive, allocated every later one straight in the old space: a job's next fire
 * then cost page faults for 80 KiB of fresh memory and a full collection to take it back
 * (docs/performance.md, item 46).
 */
function newCron(expression: string, timezone: string): Cron {
  const cron = new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' });
  const pattern = (cron as unknown as CronYears)._states?.pattern;
  if (pattern?.starYear === true && Array.isArray(pattern.year)) pattern.year = NO_YEARS;
  return cron;
}

/** A paused croner instance for the spec; cached, since parsing costs more than a lookup. */
function cronOf(spec: ScheduleSpec): Cron {
  if (spec.cron === null) throw new Error('schedule has neither cron nor every');
  return cachedCron(spec.cron, spec.timezone);
}

function cachedCron(expression: string, timezone: string): Cron {
  const key = `${timezone}\n${expression}`;
  let cron = cronCache.get(key);
  if (cron === undefined) {
    cron = newCron(expression, timezone);
    if (cronCache.size >= CRON_CACHE_SIZE) cronCache.delete(cronCache.keys().next().value as string);
    cronCache.set(key, cron);
  }
  return cron;
}

/** The first `anchor + k * everyMs` strictly after `after`, in O(1) and exact on integer ms. */
function nextEvery(everyMs: number, after: number, anchor: number): number {
  // `%` keeps the dividend's sign; fold it into [0, everyMs) so an anchor after `after` works too.
  const sinceInstant = (((after - anchor) % everyMs) + everyMs) % everyMs;
  return after - sinceInstant + everyMs;
}

function missedEvery(everyMs: number, anchor: number, now: number, limit: number): MissedInstants {
  const span = Math.max(0, now - anchor);
  const total = (span - (span % everyMs)) / everyMs;
  const instants = Array.from({ length: Math.max(0, Math.min(limit, total)) }, (_, k) => new Date(anchor + (k + 1) * everyMs));
  return {
    instants,
    total,
    totalCapped: false,
    first: total === 0 ? null : new Date(anchor + everyMs),
    last: total === 0 ? null : new Date(anchor + total * everyMs),
  };
}

const DAY_MS = 86_400_000;
// How far before an instant to look for a DST gap that swallowed scheduled wall times.
const GAP_LOOKBACK_MS = 31 * DAY_MS;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** A cron instant's note: a wall time moved or skipped by a DST gap, or repeated by a fall-back. */
function dstNote(expression: string, timezone: string, previous: number, at: number): string | null {
  return gapNote(expression, timezone, previous, at) ?? repeatNote(expression, timezone, at);
}

function gapNote(expression: string, timezone: string, previous: number, at: number): string | null {
  const gap = findGap(timezone, Math.max(previous, at - GAP_LOOKBACK_MS), at);
  if (gap === null) return null;
  // The same expression in UTC matches wall-clock fields with no DST: what the job meant to hit.
  const wallCron = cachedCron(expression, 'UTC');
  const missing = wallTimesMatching(wallCron, gap.startWall, gap.endWall);
  if (missing.length === 0) return null;
  const wallAt = at + offsetAt(at, timezone);
  if (gap.at === at && !wallCron.match(new Date(wallAt))) {
    return `${clockList(missing)} does not exist on this day (DST); fires at ${clockText(wallAt)}`;
  }
  const day = wallText(gap.startWall).slice(0, 10);
  return `${clockList(missing)} on ${day} ${missing.length > 1 ? 'do' : 'does'} not exist (DST); skipped`;
}

function repeatNote(expression: string, timezone: string, at: number): string | null {
  const offset = offsetAt(at, timezone);
  for (const neighbour of [at - DAY_MS, at + DAY_MS]) {
    const otherOffset = offsetAt(neighbour, timezone);
    // The instant showing the same wall time under the other offset, if that offset holds there.
    const twin = at + offset - otherOffset;
    if (otherOffset === offset || offsetAt(twin, timezone) !== otherOffset) continue;
    const which = twin > at ? 'first' : 'second';
    const firesAtTwin = cachedCron(expression, timezone).nextRun(new Date(twin - 1))?.getTime() === twin;
    const how = firesAtTwin ? `fires at both; this is the ${which}` : `fires once, at the ${which}`;
    return `${clockText(at + offset)} occurs twice on this day (DST); ${how} (${offsetText(offset)})`;
  }
  return null;
}

/** The last DST gap (offset increase) in (start, end]: its instant and its wall-clock bounds. */
function findGap(timezone: string, start: number, end: number): { at: number; startWall: number; endWall: number } | null {
  // Offset changes are months apart, so a day-by-day scan sees each one as a single step.
  for (let high = end; high > start; high -= DAY_MS) {
    let low = Math.max(start, high - DAY_MS);
    const before = offsetAt(low, timezone);
    const after = offsetAt(high, timezone);
    if (after <= before) continue;
    let top = high;
    while (top - low > 1) {
      const mid = Math.floor((low + top) / 2);
      if (offsetAt(mid, timezone) === before) low = mid;
      else top = mid;
    }
    return { at: top, startWall: top + before, endWall: top + after };
  }
  return null;
}

/** Wall times in [start, end) the expression matches, at most three plus a marker for more. */
function wallTimesMatching(wallCron: Cron, start: number, end: number): number[] {
  const found: number[] = [];
  for (let next = wallCron.nextRun(new Date(start - 1)); next !== null && next.getTime() < end && found.length < 4;
    next = wallCron.nextRun(next)) found.push(next.getTime());
  return found;
}

function clockList(walls: number[]): string {
  const shown = walls.slice(0, 3).map(clockText);
  if (walls.length > 3) return `${shown.join(', ')} and later times`;
  return shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

/** The offset from UTC (ms) in force in the time zone at the instant. */
function offsetAt(at: number, timezone: string): number {
  let formatter = formatters.get(timezone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timezone, formatter);
  }
  const part: Record<string, number> = {};
  for (const { type, value } of formatter.formatToParts(at)) part[type] = Number(value);
  const wall = Date.UTC(part.year, part.month - 1, part.day, part.hour, part.minute, part.second);
  // formatToParts drops the milliseconds; compare whole seconds on both sides.
  return wall - (at - (((at % 1000) + 1000) % 1000));
}

/** `2026-03-29T03:00:00` for a wall time held as if it were UTC (milliseconds only when set). */
function wallText(wall: number): string {
  const iso = new Date(wall).toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, 19) : iso.slice(0, 23);
}

/** `02:30`, or `02:30:15` when the seconds are set. */
function clockText(wall: number): string {
  const clock = wallText(wall).slice(11, 19);
  return clock.endsWith(':00') ? clock.slice(0, 5) : clock;
}

/** `+02:00`, `-05:00`, `+00:00`; historical offsets keep their seconds (`+00:53:28`). */
function offsetText(offsetMs: number): string {
  const sign = offsetMs < 0 ? '-' : '+';
  const seconds = Math.abs(offsetMs) / 1000;
  const pad = (value: number) => String(Math.floor(value)).padStart(2, '0');
  const text = `${sign}${pad(seconds / 3600)}:${pad((seconds % 3600) / 60)}`;
  return seconds % 60 === 0 ? text : `${text}:${pad(seconds % 60)}`;
}
