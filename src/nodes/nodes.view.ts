import { ApiProperty } from '@nestjs/swagger';
import type { NodeRow } from './nodes.repository.js';

/** A node as `GET /api/cron/nodes` shows it. */
export interface NodeView {
  id: string;
  hostname: string;
  pid: number;
  version: string;
  startedAt: string;
  heartbeatAt: string;
  stoppedAt: string | null;
  /** `alive` (heartbeat within nodeTimeout), `stopped` (shut down cleanly) or `dead` (stopped heartbeating). */
  status: 'alive' | 'stopped' | 'dead';
  /** The node that answered this request. */
  self: boolean;
  runningRuns: Array<{ id: string; jobId: string; trigger: string; attempt: number; startedAt: string; pid: number | null }>;
}

export function nodeView(row: NodeRow, selfId: string): NodeView {
  return {
    id: row.id,
    hostname: row.hostname,
    pid: row.pid,
    version: row.version,
    startedAt: row.startedAt.toISOString(),
    heartbeatAt: row.heartbeatAt.toISOString(),
    stoppedAt: row.stoppedAt?.toISOString() ?? null,
    status: row.stoppedAt ? 'stopped' : row.alive ? 'alive' : 'dead',
    self: row.id === selfId,
    // json_agg leaves timestamps as text; the shape is fixed, so only the time is normalised.
    runningRuns: row.runningRuns.map((run) => ({ ...run, startedAt: new Date(run.startedAt).toISOString() })),
  };
}

/** One running run of a node (OpenAPI). */
class NodeRunResponse {
  @ApiProperty() id: string;
  @ApiProperty() jobId: string;
  @ApiProperty() trigger: string;
  @ApiProperty() attempt: number;
  @ApiProperty() startedAt: string;
  @ApiProperty({ type: Number, nullable: true }) pid: number | null;
}

/** The documented shape of `NodeView` (OpenAPI). */
export class NodeResponse implements NodeView {
  @ApiProperty() id: string;
  @ApiProperty() hostname: string;
  @ApiProperty() pid: number;
  @ApiProperty() version: string;
  @ApiProperty() startedAt: string;
  @ApiProperty() heartbeatAt: string;
  @ApiProperty({ type: String, nullable: true }) stoppedAt: string | null;
  @ApiProperty({ enum: ['alive', 'stopped', 'dead'] }) status: 'alive' | 'stopped' | 'dead';
  @ApiProperty({ description: 'The node that answered this request.' }) self: boolean;
  @ApiProperty({ type: [NodeRunResponse] }) runningRuns: NodeRunResponse[];
}
