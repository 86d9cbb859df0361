import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { formatDuration } from '../config/durations.js';
import { Database } from '../database/database.js';
import { msInterval } from '../database/sql.js';
import { RUN_COLUMNS, type RunRow } from '../runs/runs.repository.js';
import { nodeAlive } from './node-liveness.js';

/** An abandoned run with the pipeline its retry policy comes from. */
export type AbandonedRun = RunRow & { pipeline: string };

const ISO = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The housekeeping statements every node runs: reap runs of dead nodes, fail runs stuck in the
 * queue, find orphaned children. Times are the database's `now()`, the one clock all nodes share.
 */
@Injectable()
export class ReaperRepository {
  constructor(private readonly db: Database) {}

  /**
   * Marks `abandoned` every run still `running` on a node whose heartbeat is older than
   * `nodeTimeoutMs` (or that stopped without recording it). One UPDATE decides: when two nodes
   * reap at once, the second finds the rows no longer running, so each run is reaped once.
   */
  async abandonRunsOfDeadNodes(nodeTimeoutMs: number, byNodeId: string, runner?: QueryRunner): Promise<AbandonedRun[]> {
    const node = `'its node ' || n.id || ' (' || n.hostname || ', pid ' || n.pid || ')'`;
    return this.db.rows<AbandonedRun>(
      `UPDATE cw_runs r SET status = 'abandoned', finished_at = now(),
         duration_ms = LEAST(round(extract(epoch FROM now() - r.started_at) * 1000), 2147483647)::int,
         error = CASE
           WHEN n.stopped_at IS NOT NULL THEN ${node} || ' stopped at ' || ${ISO('n.stopped_at')} || ' without recording how the run ended'
           ELSE ${node} || ' stopped heartbeating: last heartbeat ' || ${ISO('n.heartbeat_at')} || ', more than nodeTimeout (' || $2 || ') ago'
         END || '; abandoned by node ' || $3
       FROM cw_nodes n, cw_jobs j
       WHERE r.status = 'running' AND n.id = r.node_id AND j.id = r.job_id
         AND NOT ${nodeAlive('n', '$1')}
       RETURNING ${RUN_COLUMNS}, j.pipeline`,
      [nodeTimeoutMs, formatDuration(nodeTimeoutMs), byNodeId],
      runner,
    );
  }

  /**
   * Whether any run is `running` on a node that `abandonRunsOfDeadNodes` would reap: one read that
   * spares an idle pass the transaction (three round trips) the reaping needs.
   */
  async anyRunsOfDeadNodes(nodeTimeoutMs: number): Promise<boolean> {
    const row = await this.db.one<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM cw_runs r JOIN cw_nodes n ON n.id = r.node_id
         WHERE r.status = 'running' AND NOT ${nodeAlive('n', '$1')}) AS found`,
      [nodeTimeoutMs],
    );
    return row?.found === true;
  }

  /** Fails runs that stayed queued `queueTimeoutMs` past the moment they could be claimed, saying why they waited. */
  async failStaleQueued(queueTimeoutMs: number): Promise<RunRow[]> {
    return this.db.rows<RunRow>(
      `UPDATE cw_runs r SET status = 'failed', finished_at = now(),
         error = 'still queued after queueTimeout (' || $2 || '): ' || CASE
           WHEN EXISTS (SELECT 1 FROM cw_runs x WHERE x.job_id = r.job_id AND x.status = 'running')
             THEN 'it waited behind a running run of the job'
           ELSE 'no node had a free slot to run it'
         END
       WHERE r.status = 'queued' AND COALESCE(r.not_before, r.queued_at) < now() - ${msInterval('$1')}
       RETURNING ${RUN_COLUMNS}`,
      [queueTimeoutMs, formatDuration(queueTimeoutMs)],
    );
  }

  /**
   * Abandoned runs whose child was started on this host in this boot (reaped since `since`, or
   * ever when null): their process groups may have outlived the node that ran them.
   */
  async findAbandonedOnHost(hostname: string, bootId: string, since: Date | null): Promise<AbandonedRun[]> {
    return this.db.rows<AbandonedRun>(
      `SELECT ${RUN_COLUMNS}, j.pipeline FROM cw_runs r JOIN cw_nodes n ON n.id = r.node_id JOIN cw_jobs j ON j.id = r.job_id
       WHERE r.status = 'abandoned' AND r.process_start IS NOT NULL AND r.pid IS NOT NULL
         AND n.hostname = $1 AND starts_with(r.process_start, $2 || ':')
         AND ($3::timestamptz IS NULL OR r.finished_at >= $3)`,
      [hostname, bootId, since],
    );
  }
}
