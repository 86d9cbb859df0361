/** Direct reads of `cw_runs` for measuring: counts while waiting, times once everything ended. */

const FINAL = `status NOT IN ('queued', 'running')`;

/**
 * Polls until `expected` runs matching `where` (SQL over cw_runs, parameters `params`) have ended.
 * Resolves `{ ended, active }`; rejects with the counts when `timeoutMs` passes first.
 */
export async function waitForEnded(client, where, params, expected, timeoutMs, everyMs = 100) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query(
      `SELECT count(*) FILTER (WHERE ${FINAL})::int AS ended, count(*) FILTER (WHERE NOT ${FINAL})::int AS active
       FROM cw_runs WHERE ${where}`,
      params,
    );
    const counts = rows[0];
    if (counts.ended >= expected) return counts;
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms: ${counts.ended} of ${expected} runs ended, ${counts.active} still active`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Queues `count` manual runs of `jobId` with one INSERT (no API, no trigger requests), recorded as
 * triggered by `triggeredBy`; resolves their ids.
 */
export async function queueRuns(client, jobId, count, triggeredBy) {
  const { rows } = await client.query(
    `INSERT INTO cw_runs (id, job_id, status, trigger, scheduled_for, params, triggered_by)
     SELECT gen_random_uuid(), $1::text, 'queued', 'manual', now(), '{}', $3::text FROM generate_series(1, $2::int)
     RETURNING id`,
    [jobId, count, triggeredBy],
  );
  return rows.map((row) => row.id);
}

/** How many runs match `where` now. */
export async function countRuns(client, where, params) {
  const { rows } = await client.query(`SELECT count(*)::int AS n FROM cw_runs WHERE ${where}`, params);
  return rows[0].n;
}

/**
 * Per run, in ms after its scheduled instant: when it was recorded as due (`queued_at`: a run
 * staged ahead is queued from its instant, one recorded later from its insert) and when it
 * was claimed to start (`started_at`, set in the claim just before spawn). Plus statuses.
 */
export async function lateness(client, where, params) {
  const { rows } = await client.query(
    `SELECT status,
            extract(epoch FROM queued_at - scheduled_for) * 1000 AS due_ms,
            extract(epoch FROM started_at - scheduled_for) * 1000 AS start_ms
     FROM cw_runs WHERE ${where}`,
    params,
  );
  return {
    dueMs: rows.map((row) => Number(row.due_ms)),
    startMs: rows.filter((row) => row.start_ms !== null).map((row) => Number(row.start_ms)),
    statuses: countBy(rows.map((row) => row.status)),
  };
}

/** `{ status: count }` of the runs matching `where`, and the span from the first start to the last finish. */
export async function outcome(client, where, params) {
  const { rows } = await client.query(
    `SELECT status, count(*)::int AS n,
            extract(epoch FROM min(started_at)) * 1000 AS first_start, extract(epoch FROM max(finished_at)) * 1000 AS last_finish
     FROM cw_runs WHERE ${where} GROUP BY status`,
    params,
  );
  const statuses = Object.fromEntries(rows.map((row) => [row.status, row.n]));
  const lastFinish = Math.max(...rows.map((row) => Number(row.last_finish ?? 0)));
  const starts = rows.map((row) => row.first_start).filter((value) => value !== null).map(Number);
  return { statuses, firstStart: starts.length ? Math.min(...starts) : null, lastFinish: lastFinish || null };
}

function countBy(values) {
  const counts = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
