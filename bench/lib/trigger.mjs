/** Manual triggers through the API and waiting for the runs they queue to end. */
import { inParallel, request, token } from './http.mjs';
import { outcome, waitForEnded } from './runs.mjs';
import { summary } from './stats.mjs';

/** Concurrent trigger requests in flight; enough to keep 8 runs busy without flooding the API. */
export const TRIGGER_CONCURRENCY = 8;

/**
 * Triggers `count` runs of `jobId`, spread over `urls` in turn, and waits until all have ended.
 * Returns end-to-end runs/s (first trigger sent → last run finished), how long sending the triggers
 * took, their latencies, the final statuses, and the run ids.
 */
export async function triggerAndWait(client, urls, jobId, count, { timeoutMs = 300_000 } = {}) {
  const bearer = token();
  const started = Date.now();
  let busyAnswers = 0;
  const responses = await inParallel(count, TRIGGER_CONCURRENCY, async (i) => {
    for (;;) {
      const res = await request(urls[i % urls.length], 'POST', `/api/cron/jobs/${jobId}/trigger`, { bearer, body: {}, client: i % TRIGGER_CONCURRENCY });
      if (res.status === 202) return res;
      // 503 says the database is busy now: a client retries after Retry-After, as the API documents.
      if (res.status !== 503) throw new Error(`trigger answered ${res.status}: ${JSON.stringify(res.body)}`);
      busyAnswers++;
      await new Promise((resolve) => setTimeout(resolve, 1_000 * Number(res.headers['retry-after'] ?? 1)));
    }
  });
  const triggeredAt = Date.now();
  const ids = responses.map((res) => res.body.id);
  const where = `id = ANY($1::uuid[])`;
  await waitForEnded(client, where, [ids], count, timeoutMs);
  const ended = await outcome(client, where, [ids]);
  const seconds = (ended.lastFinish - started) / 1000;
  return {
    runs: count,
    seconds,
    perSecond: count / seconds,
    // When this is close to `seconds`, the API taking the triggers was the bottleneck, not the runs.
    triggerSeconds: (triggeredAt - started) / 1000,
    triggerMs: summary(responses.map((res) => res.ms)),
    statuses: ended.statuses,
    busyAnswers,
    ids,
  };
}
