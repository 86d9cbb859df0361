import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentCaller } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { RunsService } from '../runs/runs.service.js';
import { ListJobsQuery, ListRunsQuery, PauseJobDto, TriggerJobDto } from './jobs.dto.js';
import { JobsService } from './jobs.service.js';

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('api/cron/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService, private readonly runs: RunsService) {}

  @Get()
  list(@CurrentCaller() caller: Caller, @Query() query: ListJobsQuery) {
    const paused = query.paused === undefined ? undefined : query.paused === 'true';
    return this.jobs.list(caller, { owner: query.owner, pipeline: query.pipeline, paused });
  }

  @Get(':id')
  get(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    return this.jobs.get(caller, id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  pause(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body() body: PauseJobDto) {
    return this.jobs.setPaused(caller, id, true, body.note ?? null);
  }

  @Post(':id/resume')
  @HttpCode(200)
  resume(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    return this.jobs.setPaused(caller, id, false, null);
  }

  @Post(':id/trigger')
  @HttpCode(202)
  async trigger(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body() body: TriggerJobDto, @Res({ passthrough: true }) response: Response) {
    const run = await this.jobs.trigger(caller, id, body.params);
    response.location(`/api/cron/runs/${run.id}`);
    return run;
  }

  @Get(':id/runs')
  listRuns(@CurrentCaller() caller: Caller, @Param('id') id: string, @Query() query: ListRunsQuery) {
    return this.runs.listForJob(caller, id, query.limit ?? 50, query.cursor ?? null);
  }
}
