/**
 * One page out of `rows` read with a limit of `limit + 1`: the first `limit`, and the cursor of the
 * page after them (`cursorOf` the last item) when the extra row shows there is one, else null.
 */
export function cutPage<T>(rows: readonly T[], limit: number, cursorOf: (last: T) => string): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit && items.length > 0 ? cursorOf(items[items.length - 1]) : null };
}
