import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig } from '../config/config.types.js';
import { Database } from '../database/database.js';
import { NodeIdentity } from './node-identity.js';

/** Registers this daemon as a node and keeps its heartbeat fresh, so others can tell it is alive. */
@Injectable()
export class NodesService {
  private readonly logger = new Logger(NodesService.name);
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(CONFIG) private readonly config: CronwardenConfig,
    private readonly db: Database,
    private readonly node: NodeIdentity,
  ) {}

  async register(): Promise<void> {
    await this.db.rows(
      `INSERT INTO cw_nodes (id, hostname, pid, version) VALUES ($1, $2, $3, $4)`,
      [this.node.id, this.node.hostname, this.node.pid, this.node.version],
    );
    this.timer = setInterval(() => void this.heartbeat(), this.config.daemon.heartbeatIntervalMs);
  }

  async deregister(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.db.rows(`UPDATE cw_nodes SET stopped_at = now() WHERE id = $1`, [this.node.id]).catch(() => undefined);
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.db.rows(`UPDATE cw_nodes SET heartbeat_at = now() WHERE id = $1`, [this.node.id]);
    } catch (error) {
      this.logger.warn(`heartbeat failed: ${(error as Error).message}`);
    }
  }
}
