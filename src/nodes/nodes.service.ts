import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Caller } from '../auth/caller.js';
import { Clock } from '../common/clock.js';
import { ForbiddenError } from '../common/errors.js';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig } from '../config/config.types.js';
import { ClockCheck } from './clock-check.js';
import { NodeIdentity } from './node-identity.js';
import { nodeView, type NodeView } from './nodes.view.js';
import { NodesRepository } from './nodes.repository.js';
import { ReaperService } from './reaper.service.js';

/** The listing shows nodes seen within this long (and any node still holding a running run). */
const LISTED_FOR_MS = 24 * 3_600_000;
/** Nodes not seen for this long, with nothing running, are forgotten. */
const FORGET_AFTER_MS = 7 * 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Registers this daemon as a node, keeps its heartbeat fresh so the others can tell it is alive,
 * and runs the reaper that handles the runs of nodes that are not.
 */
@Injectable()
export class NodesService {
  private readonly logger = new Logger(NodesService.name);
  private timer: NodeJS.Timeout | null = null;
  private prunedAt = 0;

  constructor(
    @Inject(CONFIG) private readonly config: CronwardenConfig,
    private readonly nodes: NodesRepository,
    private readonly node: NodeIdentity,
    private readonly reaper: ReaperService,
    private readonly clock: Clock,
    private readonly clockCheck: ClockCheck,
  ) {}

  async register(): Promise<void> {
    await this.measured(() => this.nodes.insert(this.node));
    this.reaper.noteHeartbeat(true);
    this.timer = setInterval(() => void this.heartbeat(), this.config.daemon.heartbeatIntervalMs);
    this.reaper.start();
  }

  async deregister(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.reaper.stop();
    await this.nodes.markStopped(this.node.id).catch(() => undefined);
  }

  /** Every node seen lately with its running runs; admins only. */
  async list(caller: Caller): Promise<NodeView[]> {
    if (!caller.isAdmin) throw new ForbiddenError('listing nodes needs the admin role');
    const rows = await this.nodes.list(this.config.daemon.nodeTimeoutMs, LISTED_FOR_MS);
    return rows.map((row) => nodeView(row, this.node.id));
  }

  /** Runs a statement that returns the database's time, and checks this node's clock against it. */
  private async measured(statement: () => Promise<Date | null>): Promise<void> {
    const sentAt = this.clock.now();
    const databaseAt = await statement();
    if (databaseAt) this.clockCheck.measure(sentAt, databaseAt.getTime(), this.clock.now());
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.measured(() => this.nodes.heartbeat(this.node.id));
      this.reaper.noteHeartbeat(true);
      if (Date.now() - this.prunedAt >= PRUNE_EVERY_MS) {
        this.prunedAt = Date.now();
        const forgotten = await this.nodes.prune(FORGET_AFTER_MS);
        if (forgotten > 0) this.logger.log(`forgot ${forgotten} node(s) not seen for a week`);
      }
    } catch (error) {
      this.reaper.noteHeartbeat(false);
      this.logger.warn(`heartbeat failed: ${(error as Error).message}`);
    }
  }
}
