import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import type { PageCursor } from '../runs/page-cursor.js';
import type { AuditAction, AuditEntity } from './audit.entity.js';

export type AuditRow = AuditEntity;

export interface AuditEntry {
  actor: string;
  action: AuditAction;
  jobId?: string | null;
  runId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditFilter {
  jobId?: string;
  actor?: string;
  actions?: AuditAction[];
  since?: Date;
}

const AUDIT_COLUMNS = `a.id, a.at, a.actor, a.action, a.job_id AS "jobId", a.run_id AS "runId", a.details`;

/** SQL for `cw_audit`. */
@Injectable()
export class AuditRepository {
  constructor(private readonly db: Database) {}

  async insert(entry: AuditEntry): Promise<void> {
    await this.db.rows(
      `INSERT INTO cw_audit (id, actor, action, job_id, run_id, details) VALUES ($1, $2, $3, $4, $5, $6)`,
      [randomUUID(), entry.actor, entry.action, entry.jobId ?? null, entry.runId ?? null, JSON.stringify(entry.details ?? {})],
    );
  }

  /** One page, newest first; `after` is where the previous page ended. */
  async list(filter: AuditFilter, limit: number, after: PageCursor | null): Promise<AuditRow[]> {
    return this.db.rows<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM cw_audit a
       WHERE ($1::text IS NULL OR a.job_id = $1)
         AND ($2::text IS NULL OR a.actor = $2)
         AND ($3::text[] IS NULL OR a.action = ANY($3))
         AND ($4::timestamptz IS NULL OR a.at >= $4)
         AND ($5::timestamptz IS NULL OR (a.at, a.id) < ($5, $6::uuid))
       ORDER BY a.at DESC, a.id DESC
       LIMIT $7`,
      [filter.jobId ?? null, filter.actor ?? null, filter.actions ?? null, filter.since ?? null, after?.at ?? null, after?.id ?? null, limit],
    );
  }
}
