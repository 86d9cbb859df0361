import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import { msInterval } from '../database/sql.js';
import type { NodeEntity } from './node.entity.js';
import type { NodeIdentity } from './node-identity.js';
import { nodeAlive } from './node-liveness.js';

/** A node's running run, as the node listing shows it. */
export interface NodeRunRow {
  id: string;
  jobId: string;
  trigger: string;
  attempt: number;
  startedAt: Date;
  pid: number | null;
}

export type NodeRow = NodeEntity & { alive: boolean; runningRuns: NodeRunRow[] };

/** SQL for `cw_nodes`. Heartbeats and liveness use the database's clock, the one all nodes share. */
@Injectable()
export class NodesRepository {
  constructor(private readonly db: Database) {}

  /** Registers the node; returns the database's time of it (for the clock check). */
  async insert(node: NodeIdentity): Promise<Date> {
    const [row] = await this.db.rows<{ at: Date }>(
      `INSERT INTO cw_nodes (id, hostname, pid, version) VALUES ($1, $2, $3, $4) RETURNING heartbeat_at AS at`,
      [node.id, node.hostname, node.pid, node.version],
    );
    return row.at;
  }

  /** Records that the node is alive; returns the database's time of it. */
  async heartbeat(nodeId: string): Promise<Date | null> {
    // clock_timestamp(), not now(): the moment the statement ran, for the clock check.
    const [row] = await this.db.rows<{ at: Date }>(`UPDATE cw_nodes SET heartbeat_at = clock_timestamp() WHERE id = $1 RETURNING heartbeat_at AS at`, [nodeId]);
    return row?.at ?? null;
  }

  async markStopped(nodeId: string): Promise<void> {
    await this.db.rows(`UPDATE cw_nodes SET stopped_at = now() WHERE id = $1`, [nodeId]);
  }

  /**
   * Nodes that are alive, ran something still marked running, or were seen within `recentMs`,
   * newest first, each with its running runs. `alive`: heartbeat within `nodeTimeoutMs`, not stopped.
   */
  async list(nodeTimeoutMs: number, recentMs: number): Promise<NodeRow[]> {
    return this.db.rows<NodeRow>(
      `SELECT n.id, n.hostname, n.pid, n.version, n.started_at AS "startedAt", n.heartbeat_at AS "heartbeatAt",
              n.stopped_at AS "stoppedAt",
              ${nodeAlive('n', '$1')} AS alive,
              COALESCE(runs.list, '[]') AS "runningRuns"
       FROM cw_nodes n
       LEFT JOIN LATERAL (
         SELECT json_agg(json_build_object('id', r.id, 'jobId', r.job_id, 'trigger', r.trigger, 'attempt', r.attempt,
                                           'startedAt', r.started_at, 'pid', r.pid) ORDER BY r.started_at) AS list
         FROM cw_runs r WHERE r.node_id = n.id AND r.status = 'running') runs ON true
       WHERE runs.list IS NOT NULL OR n.heartbeat_at >= now() - ${msInterval('$2')}
       ORDER BY n.started_at DESC, n.id`,
      [nodeTimeoutMs, recentMs],
    );
  }

  /** Forgets nodes last seen before `olderThanMs` ago that hold no running run; returns how many. */
  async prune(olderThanMs: number): Promise<number> {
    const rows = await this.db.rows(
      `DELETE FROM cw_nodes n WHERE n.heartbeat_at < now() - ${msInterval('$1')}
         AND NOT EXISTS (SELECT 1 FROM cw_runs r WHERE r.node_id = n.id AND r.status = 'running') RETURNING n.id`,
      [olderThanMs],
    );
    return rows.length;
  }
}
