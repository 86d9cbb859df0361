import { Injectable, Logger } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import type { Caller } from '../auth/caller.js';
import { ForbiddenError } from '../common/errors.js';
import { cutPage } from '../common/page.js';
import { decodeCursor, encodeCursor } from '../runs/page-cursor.js';
import type { ListAuditQuery } from './audit.dto.js';
import { AUDIT_ACTIONS } from './audit.entity.js';
import { AuditRepository, type AuditEntry, type AuditRow } from './audit.repository.js';

export interface AuditView {
  id: string;
  at: string;
  actor: string;
  action: string;
  jobId: string | null;
  runId: string | null;
  details: Record<string, unknown>;
}

/** Records every change made through the API, and lets admins read the record. */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger(AuditLog.name);

  constructor(private readonly audit: AuditRepository) {}

  /**
   * Records a change that has been made. Never throws: the change stands either way, so an entry
   * that cannot be stored goes to the daemon log in full instead.
   */
  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.audit.insert(entry);
    } catch (error) {
      this.logger.error({ message: `could not store an audit entry: ${(error as Error).message}`, audit: entry });
    }
  }

  /** The log, newest first, paginated; admins only. */
  async list(caller: Caller, query: ListAuditQuery): Promise<{ items: AuditView[]; nextCursor: string | null }> {
    if (!caller.isAdmin) throw new ForbiddenError('only an admin may read the audit log');
    const limit = query.limit ?? 100;
    const filter = { jobId: query.jobId, actor: query.actor, actions: query.action, since: query.since };
    const rows = await this.audit.list(filter, limit + 1, query.cursor ? decodeCursor(query.cursor) : null);
    const { items, nextCursor } = cutPage(rows, limit, (last) => encodeCursor(last.at, last.id));
    return { items: items.map(auditView), nextCursor };
  }
}

function auditView(row: AuditRow): AuditView {
  return { id: row.id, at: row.at.toISOString(), actor: row.actor, action: row.action, jobId: row.jobId, runId: row.runId, details: row.details };
}

/** The documented shape of `AuditView` (OpenAPI). */
export class AuditEntryResponse implements AuditView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() at: string;
  @ApiProperty({ description: 'The token subject that made the change.' }) actor: string;
  @ApiProperty({ enum: AUDIT_ACTIONS }) action: string;
  @ApiProperty({ type: String, nullable: true }) jobId: string | null;
  @ApiProperty({ type: String, nullable: true }) runId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'What changed.' }) details: Record<string, unknown>;
}

export class AuditPageResponse {
  @ApiProperty({ type: [AuditEntryResponse] }) items: AuditEntryResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
