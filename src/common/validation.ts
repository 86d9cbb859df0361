import { BadRequestException, ValidationPipe, type ArgumentMetadata, type Type, type ValidationError } from '@nestjs/common';
import { registerDecorator, ValidateIf, type ValidationOptions } from 'class-validator';
import { LRUCache } from 'lru-cache';
import { formatDuration, parseDuration } from '../config/durations.js';

/** One problem with a request, as the 400 body lists it. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * The app's validation pipe: unknown fields rejected, and every 400 names the field —
 * `{ statusCode, error, message: "<field>: <reason>; …", field, errors: [{ field, message }] }`.
 */
export function createValidationPipe(): ApiValidationPipe {
  return new ApiValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    // One message per field is enough to fix it; the rest follow from the same mistake.
    stopAtFirstError: true,
    exceptionFactory: (errors) => {
      const problems = errors.flatMap((error) => fieldProblems(error, ''));
      return new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: problems.map((problem) => problem.message).join('; '),
        field: problems[0]?.field ?? null,
        errors: problems,
      });
    },
  });
}

/** How deep a request body may nest before anything (class-transformer included) recurses into it. */
const MAX_BODY_DEPTH = 64;

/** Distinct queries and small bodies whose validated objects are kept, per class. */
export const VALIDATED_QUERIES_KEPT = 1000;

/** The longest body (as JSON) kept once validated: `{}`, `{"paused":true}`, not a job's definition. */
export const KEPT_BODY_CHARS = 256;

/**
 * Nest's pipe behind a guard against bodies that would overflow the stack or touch prototypes.
 * A value that passed is kept by its JSON, per class, and an equal one later gets a copy of the
 * validated object without class-transformer and class-validator running again (7 % of the
 * daemon's CPU under the list load, a tenth of a trigger's): queries, since clients list the same
 * page over and over, and small bodies of primitives alone, such as a trigger's `{}`. A value that
 * fails is not kept.
 */
export class ApiValidationPipe extends ValidationPipe {
  private readonly validated = new Map<Type<unknown>, LRUCache<string, object>>();

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const problem = bodyShapeProblem(value);
    if (problem) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: problem.message, field: problem.field, errors: [problem] });
    const key = keepableKey(value, metadata);
    if (key === null) return super.transform(value, metadata);
    const metatype = metadata.metatype!;
    let kept = this.validated.get(metatype);
    if (!kept) this.validated.set(metatype, (kept = new LRUCache({ max: VALIDATED_QUERIES_KEPT })));
    const known = kept.get(key);
    // Copies: each request gets its own object, as from class-transformer.
    if (known) return copyOf(known);
    const result = (await super.transform(value, metadata)) as object;
    // A body's validated object is shared by the copies: kept only when it holds primitives alone.
    if (metadata.type === 'query' || isFlat(result)) kept.set(key, copyOf(result));
    return result;
  }

  /** Validated objects kept, over all classes (for tests). */
  get keptValues(): number {
    let count = 0;
    for (const kept of this.validated.values()) count += kept.size;
    return count;
  }
}

/** The key a value is kept by once valid (its JSON), or null when values of its kind are not kept. */
function keepableKey(value: unknown, metadata: ArgumentMetadata): string | null {
  if (!metadata.metatype || metadata.data !== undefined) return null;
  if (metadata.type === 'query') return JSON.stringify(value);
  if (metadata.type !== 'body' || !isFlat(value)) return null;
  const key = JSON.stringify(value);
  return key.length <= KEPT_BODY_CHARS ? key : null;
}

/** A plain object whose own values are all primitives (or null). */
function isFlat(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const field of Object.values(value)) if (typeof field === 'object' && field !== null) return false;
  return true;
}

/** A shallow copy of an object, of the same class. */
function copyOf(object: object): object {
  return Object.assign(Object.create(Object.getPrototypeOf(object) as object | null) as object, object);
}

interface Visit {
  value: unknown;
  depth: number;
  key: string;
  parent: Visit | null;
}

/** Walks the value without recursion: too deep, or a `__proto__` key anywhere, is a problem. */
function bodyShapeProblem(value: unknown): FieldProblem | null {
  const pending: Visit[] = [{ value, depth: 0, key: '', parent: null }];
  while (pending.length > 0) {
    const visit = pending.pop()!;
    if (typeof visit.value !== 'object' || visit.value === null) continue;
    if (visit.depth > MAX_BODY_DEPTH) return { field: pathOf(visit), message: `${pathOf(visit)} nests deeper than ${MAX_BODY_DEPTH} levels` };
    for (const [key, child] of Object.entries(visit.value)) {
      const next = { value: child, depth: visit.depth + 1, key, parent: visit };
      if (key === '__proto__') return { field: pathOf(next), message: `${pathOf(next)} is not an accepted key` };
      pending.push(next);
    }
  }
  return null;
}

// Built only for the one visit reported: building every path would cost memory quadratic in the depth.
function pathOf(visit: Visit): string {
  const keys: string[] = [];
  for (let at: Visit | null = visit; at?.parent; at = at.parent) keys.unshift(at.key);
  const path = keys.join('.') || 'body';
  return path.length > 80 ? `${path.slice(0, 80)}…` : path;
}

function fieldProblems(error: ValidationError, prefix: string): FieldProblem[] {
  const field = prefix + error.property;
  const own = Object.entries(error.constraints ?? {}).map(([name, message]) => ({
    field,
    message: name === 'whitelistValidation' ? `${field} is not a known field` : message,
  }));
  return [...own, ...(error.children ?? []).flatMap((child) => fieldProblems(child, `${field}.`))];
}

/**
 * Like `@IsOptional()`, but only an absent field is skipped: an explicit `null` is still checked
 * (and rejected by the type check), so `{"cron": null}` is a 400, not a silent no-op.
 */
export const IfPresent = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined);

/**
 * A string of `min`..`max` characters that PostgreSQL can store (no NUL, no unpaired UTF-16
 * surrogate). One check with one message, so a wrong type reads "must be a string", not a length.
 */
export function IsText(limits: { min?: number; max: number }, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => registerDecorator({
    name: 'isText',
    target: target.constructor,
    propertyName: propertyName as string,
    options,
    validator: {
      validate: (value: unknown) => textProblem(value, limits.min ?? 0, limits.max) === null,
      defaultMessage: (args) => `${args?.property} ${textProblem(args?.value, limits.min ?? 0, limits.max)}`,
    },
  });
}

function textProblem(value: unknown, min: number, max: number): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length < min) return min === 1 ? 'must not be empty' : `must be at least ${min} characters long`;
  if (value.length > max) return `must be at most ${max} characters long`;
  return storable(value) ? null : 'must not contain NUL characters or unpaired surrogates';
}

/** A duration such as `30s`, `5m` or `1h30m`, in [minMs, maxMs]; the message is the parser's reason. */
export function IsDuration(minMs: number, maxMs: number, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => registerDecorator({
    name: 'isDuration',
    target: target.constructor,
    propertyName: propertyName as string,
    options,
    validator: {
      validate: (value: unknown) => durationProblem(value, minMs, maxMs) === null,
      defaultMessage: (args) => `${args?.property}: ${durationProblem(args?.value, minMs, maxMs)}`,
    },
  });
}

function durationProblem(value: unknown, minMs: number, maxMs: number): string | null {
  if (typeof value !== 'string') return 'must be a duration string such as 30s, 5m or 1h30m';
  try {
    const ms = parseDuration(value);
    if (ms < minMs) return `must be at least ${formatDuration(minMs)}`;
    return ms <= maxMs ? null : `must be at most ${formatDuration(maxMs)}`;
  } catch (error) {
    return (error as Error).message;
  }
}

/** How deep a JSON value may nest; deeper values are rejected before anything recurses into them. */
export const MAX_JSON_DEPTH = 32;

/**
 * A JSON object PostgreSQL's jsonb can store, at most `maxBytes` as JSON text and `MAX_JSON_DEPTH`
 * deep, without NUL characters or unpaired surrogates in keys or strings.
 */
export function IsJsonObject(maxBytes: number, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => registerDecorator({
    name: 'isJsonObject',
    target: target.constructor,
    propertyName: propertyName as string,
    options,
    validator: {
      validate: (value: unknown) => jsonObjectProblem(value, maxBytes) === null,
      defaultMessage: (args) => `${args?.property} ${jsonObjectProblem(args?.value, maxBytes)}`,
    },
  });
}

/** Why the value is not a storable JSON object, or null. Iterative, so no input can overflow the stack. */
export function jsonObjectProblem(value: unknown, maxBytes: number): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be a JSON object';
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if (typeof item.value === 'string' && !storable(item.value)) return 'must not contain NUL characters or unpaired surrogates';
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth > MAX_JSON_DEPTH) return `must not nest deeper than ${MAX_JSON_DEPTH} levels`;
    for (const [key, child] of Object.entries(item.value)) {
      if (!storable(key)) return 'must not contain NUL characters or unpaired surrogates';
      pending.push({ value: child, depth: item.depth + 1 });
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(value));
  return bytes <= maxBytes ? null : `must be at most ${maxBytes} bytes as JSON (got ${bytes})`;
}

function storable(text: string): boolean {
  return !/[\u0000\p{Cs}]/u.test(text);
}
