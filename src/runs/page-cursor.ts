import { InvalidInputError } from '../common/errors.js';

/** Where a page of a newest-first list ended: the last item's time and id (runs: queue time; audit: entry time). */
export interface PageCursor {
  at: Date;
  id: string;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An opaque cursor for the page after this item. */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

/**
 * Reads a cursor made by `encodeCursor`.
 * @throws InvalidInputError (field `cursor`) for anything else.
 */
export function decodeCursor(cursor: string): PageCursor {
  const [text, id, ...rest] = Buffer.from(cursor, 'base64url').toString().split('|');
  const at = new Date(text ?? '');
  if (rest.length > 0 || Number.isNaN(at.getTime()) || !UUID.test(id ?? '')) {
    throw new InvalidInputError('cursor', 'not a cursor returned by a previous page');
  }
  return { at, id };
}

const KEY_PREFIX = 'key|';

/** An opaque cursor for the page after this key, for lists in primary-key order (jobs by id). */
export function encodeKeyCursor(key: string): string {
  return Buffer.from(KEY_PREFIX + key).toString('base64url');
}

/**
 * Reads a cursor made by `encodeKeyCursor` whose key matches `valid`.
 * @throws InvalidInputError (field `cursor`) for anything else, a cursor of another list included.
 */
export function decodeKeyCursor(cursor: string, valid: RegExp): string {
  const text = Buffer.from(cursor, 'base64url').toString();
  const key = text.slice(KEY_PREFIX.length);
  if (!text.startsWith(KEY_PREFIX) || !valid.test(key)) throw new InvalidInputError('cursor', 'not a cursor returned by a previous page');
  return key;
}
