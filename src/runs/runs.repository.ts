import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { Database } from '../database/database.js';
import { msInterval } from '../database/sql.js';
import { nodeAlive } from '../nodes/node-liveness.js';
import type { RunEntity, RunStatus, RunTrigger } from './run.entity.js';

export type RunRow = Omit<RunEntity, 'job'>;
/** A claimed run with what the executor needs of its job. */
export type ClaimedRun = RunRow & { pipeline: string };

/** cw_runs' columns and the names RunRow gives them. */
const RUN_FIELDS: Array<[column: string, field: keyof RunRow]> = [
  ['id', 'id'], ['job_id', 'jobId'], ['status', 'status'], ['trigger', 'trigger'], ['scheduled_for', 'scheduledFor'],
  ['queued_at', 'queuedAt'], ['not_before', 'notBefore'], ['started_at', 'startedAt'], ['finished_at', 'finishedAt'],
  ['duration_ms', 'durationMs'], ['exit_code', 'exitCode'], ['signal', 'signal'], ['attempt', 'attempt'],
  ['triggered_by', 'triggeredBy'], ['node_id', 'nodeId'], ['pid', 'pid'], ['params', 'params'], ['output_bytes', 'outputBytes'],
  ['output_dropped_bytes', 'outputDroppedBytes'], ['output_truncated', 'outputTruncated'], ['error', 'error'],
  ['parent_run_id', 'parentRunId'], ['cancel_requested_at', 'cancelRequestedAt'], ['cancel_requested_by', 'cancelRequestedBy'],
  ['process_start', 'processStart'], ['peak_rss_bytes', 'peakRssBytes'], ['cpu_seconds', 'cpuSeconds'],
];

/** A run of `cw_runs r` as a RunRow. */
export const RUN_COLUMNS = RUN_FIELDS.map(([column, field]) => (column === field ? `r.${column}` : `r.${column} AS "${field}"`)).join(', ');

/** RUN_COLUMNS' names with only the id: a branch of a UNION that needs no more of its runs. */
const RUN_ID_COLUMNS = RUN_FIELDS.map(([column, field]) => (column === 'id' ? 'r.id' : `NULL AS "${field}"`)).join(', ');

/** A claimed run's pipeline, for `SELECT … FROM cw_claim_runs(…) r`. */
const CLAIMED_PIPELINE = '(SELECT j.pipeline FROM cw_jobs j WHERE j.id = r.job_id) AS pipeline';

/**
 * Ends running runs (parameters: finishParams) and returns them, through cw_finish_runs (migration
 * FinishFunction1764000014000): a run no longer running is left as it is and not returned.
 */
const FINISH_CALL = 'cw_finish_runs($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) r';
const FINISHED_RUNS = `SELECT ${RUN_COLUMNS} FROM ${FINISH_CALL}`;

/** The 14 parameters of cw_finish_runs: one array per field, an element per entry. */
function finishParams(entries: FinishEntry[]): unknown[] {
  const column = <T>(pick: (finish: RunFinish) => T) => entries.map((e) => pick(e.finish));
  return [entries.map((e) => e.runId), column((f) => f.status), column((f) => f.finishedAt), column((f) => f.durationMs),
    column((f) => f.exitCode), column((f) => f.signal), column((f) => f.error), column((f) => f.outputBytes),
    column((f) => f.outputDroppedBytes), column((f) => f.outputTruncated), column((f) => f.peakRssBytes ?? null),
    column((f) => f.cpuSeconds ?? null), column((f) => f.pid ?? null), column((f) => f.processStart ?? null)];
}

/** Up to $2 queued runs claimed for node $1, with their pipelines (see RunsRepository.claimQueued). */
const CLAIM_STATEMENT = `SELECT ${RUN_COLUMNS}, ${CLAIMED_PIPELINE} FROM cw_claim_runs($1, $2) r`;

/**
 * The ids of the runs that ended (FINISHED_RUNS without the rest of their rows), then
 * CLAIM_STATEMENT, in one statement (parameters: finishParams, then the node and the limit as $15
 * and $16). UNION ALL reads its branches in order, so the finishes are written before the claim
 * function runs, and a volatile function's queries take a new snapshot, which sees them (the test
 * finish-and-claim holds both databases to this).
 */
const FINISH_AND_CLAIM_STATEMENT = `SELECT ${RUN_ID_COLUMNS}, NULL AS pipeline, false AS claimed FROM ${FINISH_CALL}
  UNION ALL
  SELECT ${RUN_COLUMNS}, ${CLAIMED_PIPELINE}, true AS claimed FROM cw_claim_runs($15, $16) r`;

/** FINISHED_RUNS saying only which runs ended. */
const ENDED_RUNS = `SELECT r.id FROM ${FINISH_CALL}`;

/** One answer per entry, in order: whether its run is among `ended`. */
function endedInEntryOrder(entries: FinishEntry[], ended: Array<{ id: string }>): boolean[] {
  const ids = new Set(ended.map((run) => run.id));
  return entries.map((e) => ids.has(e.runId));
}

export interface Freshness {
  lastSuccessAt: Date | null;
  lastFinishedStatus: string | null;
}

export interface FireRequest {
  jobId: string;
  /** The instant the run is for; the unique key with the job. */
  scheduledFor: Date;
  /** The anchor after this fire (the last instant it covers; later than scheduledFor for a skipped range). */
  anchorTo: Date;
  trigger: Extract<RunTrigger, 'schedule' | 'catchup'>;
  /** Set to record the instant as skipped with this reason instead of queueing a run. */
  skipReason: string | null;
}

export interface StageRequest {
  jobId: string;
  /** The instant the run is for. */
  scheduledFor: Date;
  /** When it may start: the instant plus the job's jitter. */
  dueAt: Date;
}

/** What staging did with one job: its run, or null when it declined the job (a run of it queued or running). */
export interface StageResult {
  jobId: string;
  runId: string | null;
}

/** A run to finish, and how it ended. */
export interface FinishEntry {
  runId: string;
  finish: RunFinish;
}

export interface RunFinish {
  status: Extract<RunStatus, 'succeeded' | 'failed' | 'timed_out' | 'cancelled'>;
  finishedAt: Date;
  durationMs: number;
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  outputBytes: number;
  outputDroppedBytes: number;
  outputTruncated: boolean;
  /** Sampled from /proc while the run ran; null when nothing was sampled (e.g. the program never started). */
  peakRssBytes?: number | null;
  cpuSeconds?: number | null;
  /** The child's pid and process identity, kept if the run's pid was not recorded yet. */
  pid?: number | null;
  processStart?: string | null;
}

export interface RunPid {
  runId: string;
  pid: number;
  processStart: string | null;
}

/** SQL for `cw_runs`. */
@Injectable()
export class RunsRepository {
  constructor(private readonly db: Database) {}

  /**
   * Fire statements worth running at once, each on its own connection: on PostgreSQL a large tick
   * keeps both cores busy; the embedded database has one connection.
   */
  get fireConcurrency(): number {
    return Math.min(4, Math.max(1, Math.floor(this.db.poolSize / 3)));
  }

  /**
   * Fires scheduled instants, at most one per job, in one statement: moves each job's anchor
   * forward and records its run. The anchor guard and the unique (job, instant) key make each
   * happen once whatever the number of nodes; the overlap policy decides between `queued` and
   * `skipped` in the same statement. Returns the runs recorded; a job that is paused, disabled, or
   * whose instant was already handled gets none. `queued_at` is each row's own insert time, so it
   * still says when that run was recorded in a batch of thousands.
   */
  async fireMany(requests: FireRequest[], maxClockSkewMs: number): Promise<RunRow[]> {
    if (requests.length === 0) return [];
    return this.db.prepared<RunRow>(
      `WITH request AS (
         SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::text[], $6::uuid[])
           AS q(job_id, scheduled_for, anchor_to, trigger, skip_reason, run_id)
       ), job AS (
         UPDATE cw_jobs j SET anchor_at = q.anchor_to FROM request q
         WHERE j.id = q.job_id AND j.enabled AND NOT j.paused AND (j.anchor_at IS NULL OR j.anchor_at < q.anchor_to)
           AND q.anchor_to <= now() + ${msInterval('$7')}
         RETURNING j.id, j.overlap, j.params, q.scheduled_for, q.trigger, q.skip_reason, q.run_id
       ), active AS (
         SELECT job_id, count(*) FILTER (WHERE status = 'queued') AS queued, count(*) AS busy,
                (array_agg(id ORDER BY queued_at DESC))[1] AS latest
         FROM cw_runs WHERE job_id IN (SELECT id FROM job) AND status IN ('queued', 'running') GROUP BY job_id
       ), decision AS (
         SELECT job.*, CASE
             WHEN job.skip_reason IS NOT NULL THEN job.skip_reason
             -- Catch-up runs are a deliberate backfill: never skipped for overlap, claimed one at a time instead.
             WHEN job.trigger = 'catchup' THEN NULL
             WHEN job.overlap = 'skip' AND a.busy > 0 THEN 'overlap policy skip: run ' || a.latest || ' has not finished'
             WHEN job.overlap = 'queue' AND a.queued > 0 THEN 'overlap policy queue: run ' || a.latest || ' is already waiting'
           END AS reason
         FROM job LEFT JOIN active a ON a.job_id = job.id
       )
       INSERT INTO cw_runs AS r (id, job_id, status, trigger, scheduled_for, params, triggered_by, error, queued_at, finished_at)
       SELECT d.run_id, d.id, CASE WHEN d.reason IS NULL THEN 'queued' ELSE 'skipped' END, d.trigger, d.scheduled_for,
              d.params, 'scheduler', d.reason, clock_timestamp(), CASE WHEN d.reason IS NULL THEN NULL ELSE clock_timestamp() END
       FROM decision d
       ON CONFLICT (job_id, scheduled_for) WHERE trigger IN ('schedule', 'catchup') DO NOTHING
       RETURNING ${RUN_COLUMNS}`,
      [requests.map((q) => q.jobId), requests.map((q) => q.scheduledFor), requests.map((q) => q.anchorTo),
        requests.map((q) => q.trigger), requests.map((q) => q.skipReason), requests.map(() => randomUUID()), maxClockSkewMs],
    );
  }

  /**
   * Records runs ahead of their instants (see SchedulerService): queued, with `queued_at` and
   * `not_before` at the instant plus jitter, so the claim leaves them until then and nothing is
   * written at the instant itself. A job with a run queued or running is declined (unless its
   * overlap policy is `allow`): whether its instant is skipped, queued or replaces that run is
   * decided at the instant, by fireMany. The anchor guard and the unique (job, instant) key make
   * each instant happen once, whatever the number of nodes; a job that is paused, disabled or
   * already past the instant is neither staged nor declined. `queued_at` is never earlier than
   * the row's own insert time: a run staged late says how late.
   */
  async stageMany(requests: StageRequest[], aheadMs: number): Promise<StageResult[]> {
    if (requests.length === 0) return [];
    return this.db.prepared<StageResult>(
      `WITH request AS (
         SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::uuid[]) AS q(job_id, scheduled_for, due_at, run_id)
       ), busy AS (
         SELECT DISTINCT r.job_id FROM cw_runs r
         WHERE r.job_id IN (SELECT job_id FROM request) AND r.status IN ('queued', 'running')
       ), job AS (
         UPDATE cw_jobs j SET anchor_at = q.scheduled_for FROM request q
         WHERE j.id = q.job_id AND j.enabled AND NOT j.paused AND (j.anchor_at IS NULL OR j.anchor_at < q.scheduled_for)
           AND q.scheduled_for <= now() + ${msInterval('$5')}
           AND (j.overlap = 'allow' OR j.id NOT IN (SELECT job_id FROM busy))
         RETURNING j.id, j.params, q.scheduled_for, q.due_at, q.run_id
       ), staged AS (
         INSERT INTO cw_runs AS r (id, job_id, status, trigger, scheduled_for, not_before, params, triggered_by, queued_at)
         SELECT job.run_id, job.id, 'queued', 'schedule', job.scheduled_for, job.due_at, job.params, 'scheduler',
                greatest(clock_timestamp(), job.due_at)
         FROM job
         ON CONFLICT (job_id, scheduled_for) WHERE trigger IN ('schedule', 'catchup') DO NOTHING
         RETURNING r.job_id, r.id
       )
       SELECT staged.job_id AS "jobId", staged.id AS "runId" FROM staged
       UNION ALL
       SELECT q.job_id, NULL FROM request q
       WHERE q.job_id IN (SELECT job_id FROM busy) AND q.job_id NOT IN (SELECT id FROM job)
         -- Staged by another node already: nothing is left to decide at the instant.
         AND NOT EXISTS (SELECT 1 FROM cw_jobs j WHERE j.id = q.job_id AND j.anchor_at >= q.scheduled_for)`,
      [requests.map((q) => q.jobId), requests.map((q) => q.scheduledFor), requests.map((q) => q.dueAt),
        requests.map(() => randomUUID()), aheadMs],
    );
  }

  /**
   * Undoes the staging of every run whose instant has not come yet, as a change of its job does
   * (migration StagedRunsUndone1764000012000), while no node but `nodeId` is alive: for a lone node
   * stopping, so that an instant passing while no node runs goes through the job's catch-up policy
   * at the next start, rather than run whenever that is (or fail after queueTimeout). A live node
   * claims staged runs at their instants, so with one alive nothing is undone. Returns how many.
   */
  unstageAhead(nodeId: string, nodeTimeoutMs: number): Promise<number> {
    return this.unstage('r.queued_at > now()', [], nodeId, nodeTimeoutMs);
  }

  /**
   * The same for the runs staged for instants more than `graceMs` past that no node started, while no
   * node but `nodeId` is alive: what a lone node that died between staging and the instant left.
   * For a node starting, before its executor claims anything.
   */
  unstageMissed(nodeId: string, nodeTimeoutMs: number, graceMs: number): Promise<number> {
    return this.unstage(`r.not_before < now() - ${msInterval('$1')}`, [graceMs], nodeId, nodeTimeoutMs);
  }

  /**
   * Deletes the staged runs (queued schedule runs with a `not_before`: fires set none) matching
   * `condition` (its parameters from $1 on) unless a node other than `nodeId` is alive, and moves
   * each job's anchor back to just before its first such instant (an interval job's by one
   * interval), its stored next fire forgotten: the scheduler then meets those instants as missed.
   * On the embedded database no other node can be alive (one daemon holds the data directory's
   * lock), so none is looked for: a node that crashed a moment ago does not count as alive there.
   */
  private async unstage(condition: string, conditionParams: unknown[], nodeId: string, nodeTimeoutMs: number): Promise<number> {
    const params = [...conditionParams];
    let noOtherNode = '';
    if (this.db.kind !== 'pglite') {
      params.push(nodeId, nodeTimeoutMs);
      noOtherNode = `AND NOT EXISTS (SELECT 1 FROM cw_nodes n WHERE n.id <> $${params.length - 1} AND ${nodeAlive('n', `$${params.length}`)})`;
    }
    const rows = await this.db.rows<{ n: number }>(
      `WITH unstaged AS (
         DELETE FROM cw_runs r
         WHERE r.status = 'queued' AND r.trigger = 'schedule' AND r.not_before IS NOT NULL AND ${condition}
           ${noOtherNode}
         RETURNING r.job_id, r.scheduled_for
       ), first_staged AS (
         SELECT job_id, min(scheduled_for) AS instant FROM unstaged GROUP BY job_id
       ), anchored AS (
         UPDATE cw_jobs j SET next_fire_at = NULL, anchor_at = CASE
             WHEN j.every_ms IS NOT NULL THEN f.instant - ${msInterval('j.every_ms')}
             ELSE f.instant - interval '1 millisecond'
           END
         FROM first_staged f WHERE j.id = f.job_id AND j.anchor_at >= f.instant
       )
       SELECT count(*)::int AS n FROM unstaged`,
      params,
    );
    return rows[0]?.n ?? 0;
  }

  /**
   * Claims up to `limit` queued runs for this node, oldest first. SKIP LOCKED lets every node
   * claim at once without two taking the same run. Jobs whose overlap policy is `queue` or
   * `replace`, and catch-up runs of any job, start one run at a time, oldest first.
   */
  async claimQueued(nodeId: string, limit: number): Promise<ClaimedRun[]> {
    // cw_claim_runs (migration ClaimFunction1764000010000) takes the oldest claimable runs in the
    // order of cw_runs_queued_order_idx, however few statistics the planner has.
    return this.db.prepared<ClaimedRun>(CLAIM_STATEMENT, [nodeId, limit]);
  }

  /** Records children's pids and their process identities (see processStartToken), many runs per statement. */
  async setPids(entries: RunPid[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.prepared(
      `UPDATE cw_runs r SET pid = e.pid, process_start = e.process_start
       FROM unnest($1::uuid[], $2::integer[], $3::text[]) AS e(id, pid, process_start)
       WHERE r.id = e.id AND r.pid IS NULL`,
      [entries.map((e) => e.runId), entries.map((e) => e.pid), entries.map((e) => e.processStart)],
    );
  }

  /** Records how a running run ended. Returns null when the run was no longer running (e.g. reaped). */
  async finish(runId: string, finish: RunFinish, runner?: QueryRunner): Promise<RunRow | null> {
    return (await this.db.prepared<RunRow>(FINISHED_RUNS, finishParams([{ runId, finish }]), runner))[0] ?? null;
  }

  /**
   * Records how running runs ended, many per statement, for a caller that needs no more than whether
   * each run ended here (true) or was no longer running (false): no rows to send and read.
   */
  async endMany(entries: FinishEntry[]): Promise<boolean[]> {
    return endedInEntryOrder(entries, await this.db.prepared<{ id: string }>(ENDED_RUNS, finishParams(entries)));
  }

  /**
   * endMany and claimQueued in one statement: one round trip and one transaction where there were
   * two. The claim comes after the finishes are written and sees them, so a run of a job that starts
   * one run at a time can follow the run that just ended.
   */
  async endManyAndClaim(entries: FinishEntry[], nodeId: string, limit: number): Promise<{ ended: boolean[]; claimed: ClaimedRun[] }> {
    const rows = await this.db.prepared<(RunRow & { pipeline: string | null; claimed: boolean })>(
      FINISH_AND_CLAIM_STATEMENT,
      [...finishParams(entries), nodeId, limit],
    );
    const ended: Array<{ id: string }> = [];
    const claimed: ClaimedRun[] = [];
    for (const { claimed: isClaimed, pipeline, ...run } of rows) {
      // An ended run's row has only its id.
      if (isClaimed) claimed.push({ ...run, pipeline: pipeline! });
      else ended.push(run);
    }
    return { ended: endedInEntryOrder(entries, ended), claimed };
  }

  /**
   * Queues the retry of a run that failed, timed out or was abandoned: the same job, instant and
   * params, attempt + 1, claimable after `delayMs`. The unique key on the parent makes it happen
   * once, whichever node asks; returns null when the retry exists already.
   */
  async queueRetry(parent: RunRow, delayMs: number, runner?: QueryRunner): Promise<RunRow | null> {
    return this.db.one<RunRow>(
      `INSERT INTO cw_runs AS r (id, job_id, status, trigger, scheduled_for, not_before, attempt, params, triggered_by, parent_run_id)
       SELECT $1, p.job_id, 'queued', 'retry', p.scheduled_for, now() + ${msInterval('$3')},
              p.attempt + 1, p.params, p.triggered_by, p.id
       FROM cw_runs p WHERE p.id = $2
       ON CONFLICT (parent_run_id) WHERE trigger = 'retry' DO NOTHING
       RETURNING ${RUN_COLUMNS}`,
      [randomUUID(), parent.id, delayMs],
      runner,
    );
  }

  /**
   * Queues a run of `jobId` because `parent` ended (trigger `chain`, the parent recorded). A paused
   * target records the chain as skipped with the reason; a disabled or deleted one gets nothing.
   * The unique (parent, job) key makes it happen once, whichever node asks.
   */
  async queueChained(parent: RunRow, jobId: string, runner?: QueryRunner): Promise<RunRow | null> {
    return this.db.one<RunRow>(
      `INSERT INTO cw_runs AS r (id, job_id, status, trigger, scheduled_for, params, triggered_by, parent_run_id, error, finished_at)
       SELECT $1, j.id, CASE WHEN j.paused THEN 'skipped' ELSE 'queued' END, 'chain', now(), j.params, 'job:' || $3::text, $2::uuid,
              CASE WHEN j.paused THEN 'chained from run ' || $2::text || ' of job ' || $3::text || ', but the job is paused' END,
              CASE WHEN j.paused THEN now() END
       FROM cw_jobs j WHERE j.id = $4 AND j.enabled
       ON CONFLICT (parent_run_id, job_id) WHERE trigger = 'chain' DO NOTHING
       RETURNING ${RUN_COLUMNS}`,
      [randomUUID(), parent.id, parent.jobId, jobId],
      runner,
    );
  }

  /** Cancels a queued run at once; returns null if it was not queued. */
  async cancelQueued(runId: string, by: string, reason: string): Promise<RunRow | null> {
    return this.db.one<RunRow>(
      `UPDATE cw_runs r SET status = 'cancelled', finished_at = now(), error = $3,
         cancel_requested_at = now(), cancel_requested_by = $2
       WHERE r.id = $1 AND r.status = 'queued' RETURNING ${RUN_COLUMNS}`,
      [runId, by, reason],
    );
  }

  /**
   * Overlap policy `replace`: `newRunId` takes the place of the job's other runs. Queued ones are
   * cancelled at once; running ones get a cancel request (returned, so their nodes can be told).
   */
  async replaceActive(jobId: string, newRunId: string): Promise<RunRow[]> {
    const reason = `replaced by run ${newRunId} (overlap policy replace)`;
    await this.db.rows(
      `UPDATE cw_runs SET status = 'cancelled', finished_at = now(), error = $3, cancel_requested_at = now(), cancel_requested_by = 'scheduler'
       WHERE job_id = $1 AND status = 'queued' AND id <> $2`,
      [jobId, newRunId, reason],
    );
    // The new run may be running already: an executor can claim it before this statement.
    return this.db.rows<RunRow>(
      `UPDATE cw_runs r SET cancel_requested_at = now(), cancel_requested_by = 'scheduler', error = $3
       WHERE r.job_id = $1 AND r.status = 'running' AND r.id <> $2 AND r.cancel_requested_at IS NULL RETURNING ${RUN_COLUMNS}`,
      [jobId, newRunId, reason],
    );
  }

  /** Of the given running runs, those someone asked to cancel (a notification may have been lost). */
  async findCancelRequested(runIds: string[]): Promise<RunRow[]> {
    return this.db.rows<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM cw_runs r WHERE r.id = ANY($1::uuid[]) AND (r.cancel_requested_at IS NOT NULL OR r.status <> 'running')`,
      [runIds],
    );
  }

  /** Asks the node running a run to stop it; the executor kills the group and records `cancelled`. */
  async requestCancel(runId: string, by: string, reason: string): Promise<RunRow | null> {
    return this.db.one<RunRow>(
      `UPDATE cw_runs r SET cancel_requested_at = now(), cancel_requested_by = $2, error = $3
       WHERE r.id = $1 AND r.status = 'running' RETURNING ${RUN_COLUMNS}`,
      [runId, by, reason],
    );
  }

  async findById(id: string): Promise<RunRow | null> {
    return this.db.one<RunRow>(`SELECT ${RUN_COLUMNS} FROM cw_runs r WHERE r.id = $1`, [id]);
  }

  /** The id of the retry queued after the run (at most one: cw_runs_retry_key), or null. */
  async retryOf(runId: string): Promise<string | null> {
    const row = await this.db.one<{ id: string }>(`SELECT id FROM cw_runs WHERE parent_run_id = $1 AND trigger = 'retry'`, [runId]);
    return row?.id ?? null;
  }

  /** A job's runs, newest first; `before` is the cursor from the previous page. */
  async listForJob(jobId: string, limit: number, before: { queuedAt: Date; id: string } | null): Promise<RunRow[]> {
    return this.db.rows<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM cw_runs r
       WHERE r.job_id = $1 AND ($3::timestamptz IS NULL OR (r.queued_at, r.id) < ($3, $4::uuid))
       ORDER BY r.queued_at DESC, r.id DESC LIMIT $2`,
      [jobId, limit, before?.queuedAt ?? null, before?.id ?? null],
    );
  }

  /** The latest run of each of the given jobs that is not `skipped`. */
  async lastRuns(jobIds: string[]): Promise<Map<string, RunRow>> {
    const rows = await this.db.rows<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM unnest($1::text[]) AS ids(job_id)
       CROSS JOIN LATERAL (SELECT * FROM cw_runs x WHERE x.job_id = ids.job_id AND x.status <> 'skipped'
                           ORDER BY x.queued_at DESC, x.id DESC LIMIT 1) r`,
      [jobIds],
    );
    return new Map(rows.map((row) => [row.jobId, row]));
  }

  /** Per job: when it last succeeded and how its latest finished run ended (for the job's health). */
  async freshness(jobIds: string[]): Promise<Map<string, Freshness>> {
    const rows = await this.db.rows<Freshness & { jobId: string }>(
      `SELECT ids.job_id AS "jobId",
         (SELECT s.finished_at FROM cw_runs s WHERE s.job_id = ids.job_id AND s.status = 'succeeded'
          ORDER BY s.queued_at DESC, s.id DESC LIMIT 1) AS "lastSuccessAt",
         (SELECT f.status FROM cw_runs f WHERE f.job_id = ids.job_id AND f.status IN ('succeeded', 'failed', 'timed_out', 'abandoned')
          ORDER BY f.queued_at DESC, f.id DESC LIMIT 1) AS "lastFinishedStatus"
       FROM unnest($1::text[]) AS ids(job_id)`,
      [jobIds],
    );
    return new Map(rows.map(({ jobId, ...freshness }) => [jobId, freshness]));
  }

  /** Runs of this node still marked running: after a crash restart there should be none. */
  async findRunningOnNode(nodeId: string): Promise<RunRow[]> {
    return this.db.rows<RunRow>(`SELECT ${RUN_COLUMNS} FROM cw_runs r WHERE r.node_id = $1 AND r.status = 'running'`, [nodeId]);
  }

  /** A job's queued and running runs, oldest first. */
  async findActiveForJob(jobId: string): Promise<RunRow[]> {
    return this.db.rows<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM cw_runs r WHERE r.job_id = $1 AND r.status IN ('queued', 'running') ORDER BY r.queued_at, r.id`,
      [jobId],
    );
  }

  /**
   * Queues a manual run of an enabled job and its `job.trigger` audit row in one statement, without
   * a transaction: `params` are merged over the job's params as they are at the insert. `apiJobsOf`
   * limits it to the API jobs of that owner (a user's `ManagedJobs`); null lets it take any job.
   * Null when no such job exists (unknown, disabled, deleted meanwhile, or not the owner's); then
   * nothing is written.
   */
  async queueManual(
    jobId: string,
    params: Record<string, unknown>,
    by: string,
    auditDetails: Record<string, unknown>,
    apiJobsOf: string | null,
  ): Promise<RunRow | null> {
    return this.db.preparedOne<RunRow>(
      `WITH run AS (
         INSERT INTO cw_runs (id, job_id, status, trigger, scheduled_for, params, triggered_by)
         SELECT $1, j.id, 'queued', 'manual', now(), j.params || $3::jsonb, $4 FROM cw_jobs j
         WHERE j.id = $2 AND j.enabled AND ($7::text IS NULL OR (j.source = 'api' AND j.owner = $7::text))
         RETURNING *
       ), audit AS (
         INSERT INTO cw_audit (id, actor, action, job_id, run_id, details)
         SELECT $5, $4, 'job.trigger', run.job_id, run.id, $6::jsonb FROM run
       )
       SELECT ${RUN_COLUMNS} FROM run r`,
      [randomUUID(), jobId, JSON.stringify(params), by, randomUUID(), JSON.stringify(auditDetails), apiJobsOf],
    );
  }
}
