import { DynamicModule, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE, HttpAdapterHost } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { AuditController } from './audit/audit.controller.js';
import { AuditLog } from './audit/audit-log.js';
import { AuditRepository } from './audit/audit.repository.js';
import { AuthModule } from './auth/auth.module.js';
import { Clock } from './common/clock.js';
import { DomainExceptionFilter } from './common/domain-exception.filter.js';
import { addHttpHooks } from './common/http-app.js';
import { RequestLogHook } from './common/request-log.hook.js';
import { RATE_LIMIT, RateLimitHook } from './common/rate-limit.hook.js';
import { createValidationPipe } from './common/validation.js';
import { ConfigModule } from './config/config.module.js';
import type { CronwardenConfig } from './config/config.types.js';
import { Database } from './database/database.js';
import { Notifier } from './database/notifier.js';
import { ExecutorService } from './executor/executor.service.js';
import { ProcessRunner } from './executor/process-runner.js';
import { ForkedSpawner, Spawner } from './executor/spawner.js';
import { ResourceSampler } from './executor/resource-sampler.js';
import { RunFinisher } from './executor/run-finisher.js';
import { RunRecorder } from './executor/run-recorder.js';
import { HealthController } from './health/health.controller.js';
import { Readiness } from './health/readiness.js';
import { HttpMetricsHook } from './metrics/http-metrics.hook.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { MetricsService } from './metrics/metrics.service.js';
import { NotificationsController } from './notifications/notifications.controller.js';
import { NotificationsRepository } from './notifications/notifications.repository.js';
import { NotificationsService } from './notifications/notifications.service.js';
import { JobsController } from './jobs/jobs.controller.js';
import { JobsRepository } from './jobs/jobs.repository.js';
import { JobListCache } from './jobs/job-list-cache.js';
import { JobPages } from './jobs/job-pages.js';
import { JobsService } from './jobs/jobs.service.js';
import { PreviewController } from './jobs/preview.controller.js';
import { DaemonEnvironment, NodeIdentity } from './nodes/node-identity.js';
import { ClockCheck } from './nodes/clock-check.js';
import { NodesController } from './nodes/nodes.controller.js';
import { NodesRepository } from './nodes/nodes.repository.js';
import { NodesService } from './nodes/nodes.service.js';
import { PipelinesController } from './pipelines/pipelines.controller.js';
import { ReaperRepository } from './nodes/reaper.repository.js';
import { ReaperService } from './nodes/reaper.service.js';
import { LiveOutputs } from './runs/live-output.js';
import { OutputStreamService } from './runs/output-stream.js';
import { RunCancellation } from './runs/run-cancellation.js';
import { RunHistoryRepository } from './runs/run-history.repository.js';
import { RunOutputRepository } from './runs/run-output.repository.js';
import { RunsController } from './runs/runs.controller.js';
import { RunsRepository } from './runs/runs.repository.js';
import { RetentionService } from './runs/retention.service.js';
import { RunsService } from './runs/runs.service.js';
import { SchedulerService } from './scheduler/scheduler.service.js';
import { StatsController } from './stats/stats.controller.js';
import { StatsRepository } from './stats/stats.repository.js';
import { StatsService } from './stats/stats.service.js';
import { UiController } from './ui/ui.controller.js';

/** What the daemon built before Nest starts: the config, the connected database, who it is. */
export interface AppParts {
  config: CronwardenConfig;
  database: Database;
  notifier: Notifier;
  node: NodeIdentity;
  daemonEnv: DaemonEnvironment;
}

@Module({})
export class AppModule implements NestModule {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metricsHook: HttpMetricsHook,
    private readonly logHook: RequestLogHook,
    private readonly rateLimitHook: RateLimitHook,
  ) {}

  /** Request timing, the request log and the /api rate limit, as Fastify hooks on every route. */
  configure(): void {
    addHttpHooks(this.adapterHost, [this.metricsHook, this.logHook, this.rateLimitHook]);
  }

  static forRoot(parts: AppParts): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(parts.config), AuthModule, TerminusModule, ScheduleModule.forRoot()],
      controllers: [JobsController, RunsController, HealthController, MetricsController, NotificationsController, NodesController, PreviewController, PipelinesController, AuditController, StatsController, UiController],
      providers: [
        { provide: Database, useValue: parts.database },
        { provide: DataSource, useValue: parts.database.dataSource },
        { provide: Notifier, useValue: parts.notifier },
        { provide: NodeIdentity, useValue: parts.node },
        { provide: DaemonEnvironment, useValue: parts.daemonEnv },
        { provide: APP_FILTER, useClass: DomainExceptionFilter },
        { provide: APP_PIPE, useValue: createValidationPipe() },
        { provide: RATE_LIMIT, useValue: parts.config.daemon.rateLimit },
        HttpMetricsHook,
        RequestLogHook,
        RateLimitHook,
        Clock,
        JobsRepository,
        RunsRepository,
        RunOutputRepository,
        LiveOutputs,
        RunCancellation,
        AuditRepository,
        AuditLog,
        StatsRepository,
        StatsService,
        RunHistoryRepository,
        OutputStreamService,
        JobListCache,
        JobPages,
        JobsService,
        RunsService,
        SchedulerService,
        ExecutorService,
        RunRecorder,
        RunFinisher,
        ProcessRunner,
        { provide: Spawner, useClass: ForkedSpawner },
        ResourceSampler,
        NodesService,
        NodesRepository,
        ReaperService,
        ReaperRepository,
        ClockCheck,
        MetricsService,
        RetentionService,
        NotificationsRepository,
        NotificationsService,
        Readiness,
      ],
    };
  }
}
