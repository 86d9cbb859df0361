/**
 * Reading one mapping of the config file while collecting problems instead of stopping at the
 * first: a bad value is recorded with its key path and replaced by the default, so one pass
 * reports everything that is wrong.
 */
import type { ConfigProblem } from './config.loader.js';
import { formatDuration, formatSize, parseDuration, parseSize } from './durations.js';

/** Turns a raw value into a typed one, or throws an `Error` whose message is the reason. */
export type Parse<T> = (value: unknown) => T;

/** One mapping of the file (the whole document, `daemon`, one pipeline, ...) and where it sits. */
export class Section {
  private constructor(
    readonly path: string,
    readonly values: Record<string, unknown>,
    private readonly problems: ConfigProblem[],
  ) {}

  /** Wraps a mapping; absent or empty (`daemon:` with nothing under it) reads as `{}`, anything else is a problem. */
  static of(value: unknown, path: string, problems: ConfigProblem[]): Section {
    if (value !== undefined && value !== null && !isPlainObject(value)) {
      problems.push({ path, message: `must be a mapping of keys to values, not ${show(value)}` });
    }
    return new Section(path, isPlainObject(value) ? value : {}, problems);
  }

  /** The key path of a key in this section, e.g. `jobs.nightly.cron`. */
  pathOf(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  /** Records a problem at a key of this section, or at the section itself when `key` is null. */
  report(key: string | null, message: string): void {
    this.problems.push({ path: key === null ? this.path : this.pathOf(key), message });
  }

  /** Reports every key not in `allowed`, listing what is allowed (typos are the usual cause). */
  allowOnly(allowed: readonly string[]): void {
    for (const key of Object.keys(this.values)) {
      if (!allowed.includes(key)) this.report(key, `unknown key; expected one of: ${allowed.join(', ')}`);
    }
  }

  /** Whether the key is present with a value (`key:` with nothing after it counts as absent). */
  isSet(key: string): boolean {
    return this.values[key] !== undefined && this.values[key] !== null;
  }

  /** The nested mapping under `key`. */
  section(key: string): Section {
    return Section.of(this.values[key], this.pathOf(key), this.problems);
  }

  /** Reads an optional key: absent gives `fallback`, a bad value is reported and gives `fallback`. */
  read<T>(key: string, fallback: T, parse: Parse<T>): T {
    if (!this.isSet(key)) return fallback;
    try {
      return parse(this.values[key]);
    } catch (error) {
      this.report(key, reasonOf(error));
      return fallback;
    }
  }

  /** Reads a key that must be present; absent or bad is reported and gives `undefined`. */
  require<T>(key: string, parse: Parse<T>): T | undefined {
    if (this.isSet(key)) return this.read<T | undefined>(key, undefined, parse);
    this.report(key, 'is required');
    return undefined;
  }
}

/** A duration in ms within [min, max]; the reason echoes the bad value. */
export function duration(min = 0, max = Number.MAX_SAFE_INTEGER): Parse<number> {
  return (value) => {
    const ms = parseDuration(value as string | number);
    if (ms < min) throw new Error(`${show(value)} is shorter than the minimum of ${formatDuration(min)}`);
    if (ms > max) throw new Error(`${show(value)} is longer than the maximum of ${formatDuration(max)}`);
    return ms;
  };
}

/** A size in bytes within [min, max]; the reason echoes the bad value. */
export function size(min: number, max: number): Parse<number> {
  return (value) => {
    const bytes = parseSize(value as string | number);
    if (bytes < min || bytes > max) {
      throw new Error(`${show(value)} is outside the allowed range ${formatSize(min)} to ${formatSize(max)}`);
    }
    return bytes;
  };
}

/** A whole number within [min, max]. */
export function integer(min: number, max: number): Parse<number> {
  return (value) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new Error(`must be a whole number from ${min} to ${max}, not ${show(value)}`);
    }
    return value;
  };
}

/** A number within [min, max], fractions allowed. */
export function decimal(min: number, max: number): Parse<number> {
  return (value) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new Error(`must be a number from ${min} to ${max}, not ${show(value)}`);
    }
    return value;
  };
}

/** `true` or `false` (YAML 1.2: `yes`/`no` are strings, so they are reported rather than guessed). */
export const boolean: Parse<boolean> = (value) => {
  if (typeof value !== 'boolean') throw new Error(`must be true or false, not ${show(value)}`);
  return value;
};

/** A non-empty string. */
export const text: Parse<string> = (value) => {
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`must be a non-empty string, not ${show(value)}`);
  return value;
};

/** One of a fixed set of words. */
export function oneOf<T extends string>(choices: readonly T[]): Parse<T> {
  return (value) => {
    if (!choices.includes(value as T)) throw new Error(`must be one of ${choices.join(', ')}, not ${show(value)}`);
    return value as T;
  };
}

/** A list of strings, each checked by `check` (which returns a reason or null). */
export function stringList(check: (item: string) => string | null = () => null): Parse<string[]> {
  return (value) => {
    if (!Array.isArray(value)) throw new Error(`must be a list of strings, not ${show(value)}`);
    value.forEach((item, index) => {
      if (typeof item !== 'string') throw new Error(`item ${index} must be a string, not ${show(item)}`);
      const reason = check(item);
      if (reason) throw new Error(`item ${index} ${show(item)} ${reason}`);
    });
    return value as string[];
  };
}

/** Any mapping, values untouched (job `params`). */
export const mapping: Parse<Record<string, unknown>> = (value) => {
  if (!isPlainObject(value)) throw new Error(`must be a mapping of keys to values, not ${show(value)}`);
  return value;
};

/** Whether a value is a plain key/value object (not a list, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as it would read in the file, for messages; long ones are cut short. */
export function show(value: unknown): string {
  const text = typeof value === 'string' || Array.isArray(value) || isPlainObject(value) ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
