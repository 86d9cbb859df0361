import { describeError } from './report.mjs';

/**
 * Runs `work(kind)` for each database kind of the run and returns the results in kind order. A full
 * run measures one kind after the other, so they do not disturb each other; a smoke run judges no
 * figure, so it runs them side by side to stay well under a minute. A kind that fails gives
 * `{ error }` (and marks the run failed) without losing the other kinds' figures.
 */
export async function forEachKind(ctx, work) {
  const guarded = (kind) =>
    work(kind).catch((error) => {
      ctx.failed = true;
      ctx.log(`${kind} failed: ${describeError(error)}`);
      return { error: error.message };
    });
  if (ctx.smoke) return Promise.all(ctx.kinds.map(guarded));
  const results = [];
  for (const kind of ctx.kinds) results.push(await guarded(kind));
  return results;
}
