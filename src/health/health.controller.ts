import { statfs } from 'node:fs/promises';
import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { Public } from '../auth/auth.decorators.js';
import { Clock } from '../common/clock.js';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig } from '../config/config.types.js';
import { SchedulerService } from '../scheduler/scheduler.service.js';
import { ClockCheck } from '../nodes/clock-check.js';
import { Readiness } from './readiness.js';

/** The scheduler loop wakes at least every 5 s; three missed wake-ups mean it is stuck. */
const SCHEDULER_STALE_MS = 15_000;
/** The embedded database needs room to write: below this much free space the node is not ready. */
const MIN_FREE_BYTES = 256 * 1024 * 1024;
const DATABASE_TIMEOUT_MS = 800;

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly scheduler: SchedulerService,
    private readonly readiness: Readiness,
    private readonly clock: Clock,
    private readonly clockCheckState: ClockCheck,
    @Inject(CONFIG) private readonly config: CronwardenConfig,
  ) {}

  /**
   * Readiness for a load balancer: not draining, the database answers within 800 ms, the
   * scheduler loop is alive, and (embedded database) the data directory has room. A 503 names the
   * failing indicator. Cheap: the database is asked for one row at most.
   */
  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness for a load balancer: 200, or 503 naming the failing indicator (lifecycle, database, scheduler, clock, disk).' })
  ready() {
    const checks: HealthIndicatorFunction[] = [
      () => this.lifecycleCheck(),
      () => this.databaseCheck(),
      () => this.schedulerCheck(),
      () => this.clockCheck(),
    ];
    if (!this.config.env.databaseUrl) checks.push(() => this.diskCheck());
    return this.health.check(checks);
  }

  /** Liveness: the process and its event loop answer. */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process and its event loop answer.' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live() {
    return { status: 'ok' };
  }

  private lifecycleCheck() {
    const check = this.indicators.check('lifecycle');
    return this.readiness.draining ? check.down({ message: 'shutting down: not taking new work' }) : check.up();
  }

  /**
   * The database answers a query on one of our tables, unqualified: a bare `SELECT 1` also
   * succeeds when the session can no longer see the schema (a changed search_path), which breaks
   * every real query.
   */
  private async databaseCheck() {
    const check = this.indicators.check('database');
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${DATABASE_TIMEOUT_MS} ms`)), DATABASE_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.dataSource.query('SELECT 1 FROM cw_jobs LIMIT 1'), timeout]);
      return check.up({ responseTime: Date.now() - started });
    } catch (error) {
      return check.down({ message: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }

  private schedulerCheck() {
    const check = this.indicators.check('scheduler');
    const age = this.clock.now() - this.scheduler.lastTickAt;
    const details = { lastTickAgeMs: age, activeJobs: this.scheduler.activeJobs };
    return age <= SCHEDULER_STALE_MS ? check.up(details) : check.down(details);
  }

  /** A node whose clock disagrees with the database's stops firing; it must not look healthy either. */
  private clockCheck() {
    const check = this.indicators.check('clock');
    const details = { skewMs: this.clockCheckState.currentSkewMs, maxSkewMs: this.clockCheckState.maxSkewMs };
    return this.clockCheckState.agrees ? check.up(details) : check.down({ ...details, message: 'clock differs from the database by more than maxClockSkew' });
  }

  private async diskCheck() {
    const check = this.indicators.check('disk');
    const stats = await statfs(this.config.env.dataDir);
    const freeBytes = stats.bavail * stats.bsize;
    const details = { path: this.config.env.dataDir, freeBytes };
    return freeBytes >= MIN_FREE_BYTES ? check.up(details) : check.down({ ...details, message: `less than ${MIN_FREE_BYTES} bytes free` });
  }
}
