import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';

export interface Delivery {
  id: string;
  runId: string | null;
  url: string;
  event: string;
  status: 'pending' | 'delivered' | 'failed';
  payload: Record<string, unknown>;
  secret: string | null;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  deliveredAt: Date | null;
}

const COLUMNS = `id, run_id AS "runId", url, event, status, payload, secret, attempts, next_attempt_at AS "nextAttemptAt",
  last_error AS "lastError", delivered_at AS "deliveredAt"`;

/** SQL for `cw_notifications`. */
@Injectable()
export class NotificationsRepository {
  constructor(private readonly db: Database) {}

  /** Records a delivery to make; a second node recording the same (run, url, event) adds nothing. */
  async enqueue(runId: string, url: string, event: string, secret: string | null, payload: object): Promise<boolean> {
    const rows = await this.db.rows(
      `INSERT INTO cw_notifications (id, run_id, url, event, secret, payload) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (run_id, url, event) DO NOTHING RETURNING id`,
      [randomUUID(), runId, url, event, secret, JSON.stringify(payload)],
    );
    return rows.length > 0;
  }

  /** Records a job event delivery (`late`) once per job, URL, event and episode. */
  async enqueueForJob(jobId: string, url: string, event: string, episode: string, secret: string | null, payload: object): Promise<boolean> {
    const rows = await this.db.rows(
      `INSERT INTO cw_notifications (id, job_id, url, event, episode, secret, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (job_id, url, event, episode) WHERE run_id IS NULL DO NOTHING RETURNING id`,
      [randomUUID(), jobId, url, event, episode, secret, JSON.stringify(payload)],
    );
    return rows.length > 0;
  }

  /**
   * Takes up to `limit` due deliveries, leasing each for `leaseMs` (its next attempt moves out by
   * that much), so that a node dying mid-delivery only delays it; SKIP LOCKED spreads them over nodes.
   */
  async claimDue(limit: number, leaseMs: number): Promise<Delivery[]> {
    return this.db.rows<Delivery>(
      `UPDATE cw_notifications SET attempts = attempts + 1, next_attempt_at = now() + $2 * interval '1 millisecond'
       WHERE id IN (SELECT id FROM cw_notifications WHERE status = 'pending' AND next_attempt_at <= now()
                    ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING ${COLUMNS}`,
      [limit, leaseMs],
    );
  }

  /** Milliseconds until the earliest pending delivery falls due by the database's clock (0 if one is due); null when none is pending. */
  async msUntilNextDue(): Promise<number | null> {
    // GREATEST would turn "none pending" (NULL) into 0: clamped here instead.
    const row = await this.db.one<{ ms: number | null }>(
      `SELECT (EXTRACT(EPOCH FROM min(next_attempt_at) - now()) * 1000)::float8 AS ms FROM cw_notifications WHERE status = 'pending'`,
    );
    return row?.ms == null ? null : Math.max(0, row.ms);
  }

  async delivered(id: string): Promise<void> {
    await this.db.rows(`UPDATE cw_notifications SET status = 'delivered', delivered_at = now(), last_error = NULL WHERE id = $1`, [id]);
  }

  /** Records a failed attempt: retried after `retryInMs`, or given up when that is null. */
  async attemptFailed(id: string, error: string, retryInMs: number | null): Promise<void> {
    await this.db.rows(
      `UPDATE cw_notifications SET last_error = $2,
         status = CASE WHEN $3::bigint IS NULL THEN 'failed' ELSE 'pending' END,
         next_attempt_at = CASE WHEN $3::bigint IS NULL THEN next_attempt_at ELSE now() + $3 * interval '1 millisecond' END
       WHERE id = $1`,
      [id, error, retryInMs],
    );
  }

  async forRun(runId: string): Promise<Delivery[]> {
    return this.db.rows<Delivery>(`SELECT ${COLUMNS} FROM cw_notifications WHERE run_id = $1 ORDER BY created_at, url`, [runId]);
  }

  /** The status of the job's last finished run before this one (skipped and cancelled ones do not count). */
  async previousOutcome(jobId: string, runId: string): Promise<string | null> {
    const row = await this.db.one<{ status: string }>(
      `SELECT status FROM cw_runs
       WHERE job_id = $1 AND id <> $2 AND status IN ('succeeded', 'failed', 'timed_out', 'abandoned')
         AND finished_at <= (SELECT finished_at FROM cw_runs WHERE id = $2)
       ORDER BY finished_at DESC, id DESC LIMIT 1`,
      [jobId, runId],
    );
    return row?.status ?? null;
  }
}
