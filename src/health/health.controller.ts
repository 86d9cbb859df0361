import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { Public } from '../auth/auth.decorators.js';
import { Clock } from '../common/clock.js';
import { SchedulerService } from '../scheduler/scheduler.service.js';

/** The scheduler loop wakes at least every 5 s; three missed wake-ups mean it is stuck. */
const SCHEDULER_STALE_MS = 15_000;

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly scheduler: SchedulerService,
    private readonly clock: Clock,
  ) {}

  /** Readiness for a load balancer: the database answers and the scheduler loop is alive. */
  @Get()
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.database.pingCheck('database', { connection: this.dataSource, timeout: 1_000 }),
      () => this.schedulerCheck(),
    ]);
  }

  /** Liveness: the process and its event loop answer. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  private schedulerCheck() {
    const check = this.indicators.check('scheduler');
    const age = this.clock.now() - this.scheduler.lastTickAt;
    const details = { lastTickAgeMs: age, activeJobs: this.scheduler.activeJobs };
    return age <= SCHEDULER_STALE_MS ? check.up(details) : check.down(details);
  }
}
