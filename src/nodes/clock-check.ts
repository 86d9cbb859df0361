import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig } from '../config/config.types.js';
import { formatDuration } from '../config/durations.js';

/**
 * Whether this node's clock agrees with the database's, the clock every node shares. The
 * scheduler fires by the local clock, so a node that is seconds off would fire early or late
 * (and after a jump, a whole day of instants at once): it stops firing and reports not ready
 * until the clocks agree again. Between two measurements a jump of the wall clock is caught by
 * comparing it with the monotonic clock.
 */
@Injectable()
export class ClockCheck {
  private readonly logger = new Logger(ClockCheck.name);
  /** Local minus database time at the last measurement, ms; null before the first one. */
  skewMs: number | null = null;
  private measuredAt = { wall: 0, monotonic: 0 };
  private reported = true;

  constructor(
    @Inject(CONFIG) private readonly config: CronwardenConfig,
    private readonly clock: Clock,
  ) {}

  get maxSkewMs(): number {
    return this.config.daemon.maxClockSkewMs;
  }

  /** The skew now: the last measurement plus how far the wall clock moved apart from the monotonic one since. */
  get currentSkewMs(): number | null {
    if (this.skewMs === null) return null;
    const drift = (this.clock.now() - this.measuredAt.wall) - (performance.now() - this.measuredAt.monotonic);
    return Math.round(this.skewMs + drift);
  }

  /** False while the clocks differ by more than `maxClockSkew`. True before the first measurement. */
  get agrees(): boolean {
    const skew = this.currentSkewMs;
    const agrees = skew === null || Math.abs(skew) <= this.maxSkewMs;
    if (agrees !== this.reported) this.report(agrees, skew ?? 0);
    return agrees;
  }

  /**
   * Records one measurement: the local clock read before (`sentAt`) and after (`receivedAt`) a
   * statement that returned the database's time (`databaseAt`). A round trip too slow to tell
   * the skew within the limit is ignored.
   */
  measure(sentAt: number, databaseAt: number, receivedAt: number): void {
    if (receivedAt - sentAt > this.maxSkewMs) return;
    this.skewMs = Math.round((sentAt + receivedAt) / 2 - databaseAt);
    this.measuredAt = { wall: receivedAt, monotonic: performance.now() };
    void this.agrees;
  }

  private report(agrees: boolean, skewMs: number): void {
    this.reported = agrees;
    const by = `${skewMs > 0 ? 'ahead of' : 'behind'} the database's by ${formatDuration(Math.abs(skewMs))}`;
    if (agrees) this.logger.log(`this node's clock agrees with the database's again (${by}); firing resumes`);
    else this.logger.error(`this node's clock is ${by}, more than maxClockSkew (${formatDuration(this.maxSkewMs)}): not firing and not ready until it agrees; check NTP`);
  }
}
