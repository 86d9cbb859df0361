import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiExtraModels, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentCaller } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { ApiErrors, ApiProtected } from '../openapi.js';
import { RunsService } from '../runs/runs.service.js';
import { RunPageResponse, RunResponse } from '../runs/runs.view.js';
import { CreateJobDto, ListJobsQuery, ListRunsQuery, NextRunsQuery, PauseJobDto, TriggerJobDto, UpdateJobDto } from './jobs.dto.js';
import { JobPages } from './job-pages.js';
import { JobsService } from './jobs.service.js';
import { JobDetailResponse, JobPageResponse, JobResponse } from './jobs.view.js';
import { NextRunsResponse } from './schedule-preview.js';

@ApiTags('jobs')
@ApiProtected()
@Controller('api/cron/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService, private readonly pages: JobPages, private readonly runs: RunsService) {}

  @Get()
  @ApiOperation({
    summary: 'Jobs the caller may see (a user: its own and the system jobs), with nextRunAt and lastRun',
    description: 'With `limit` or `cursor`: one page in id order, `{items, nextCursor}`, paged like the run lists. Without either: every job, as an array.',
  })
  @ApiExtraModels(JobPageResponse)
  @ApiOkResponse({
    description: 'Every job, as an array; with `limit` or `cursor`, a page.',
    schema: { oneOf: [{ type: 'array', items: { $ref: getSchemaPath(JobResponse) } }, { $ref: getSchemaPath(JobPageResponse) }] },
  })
  @ApiErrors(400)
  async list(@CurrentCaller() caller: Caller, @Query() query: ListJobsQuery, @Res() reply: FastifyReply) {
    const filter = { owner: query.owner, pipeline: query.pipeline, paused: query.paused === undefined ? undefined : query.paused === 'true' };
    if (query.limit === undefined && query.cursor === undefined) return void reply.send(await this.jobs.list(caller, filter));
    // A page comes serialised (from the cache), and is sent as reply.send would have sent it.
    (await this.pages.listPage(caller, filter, query.limit ?? 50, query.cursor ?? null)).send(reply);
  }

  @Post()
  @ApiOperation({ summary: 'Create a job owned by the caller (an admin may set owner); it is scheduled at once' })
  @ApiCreatedResponse({ type: JobResponse, description: '`Location` names the new job.' })
  @ApiErrors(400, 409, 413)
  async create(@CurrentCaller() caller: Caller, @Body() body: CreateJobDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const job = await this.jobs.create(caller, body);
    reply.header('Location', `/api/cron/jobs/${job.id}`);
    return job;
  }

  @Get(':id')
  @ApiOperation({ summary: 'One job, with statistics over its latest 100 runs' })
  @ApiOkResponse({ type: JobDetailResponse })
  @ApiErrors(404)
  get(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    return this.jobs.get(caller, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change the fields given; a new schedule takes effect at once and counts from now. Not for config jobs (409).' })
  @ApiOkResponse({ type: JobResponse })
  @ApiErrors(400, 404, 409, 413)
  update(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body() body: UpdateJobDto) {
    return this.jobs.update(caller, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a job: it stops firing, queued runs are cancelled, a running one is stopped. Not for config jobs (409).' })
  @ApiNoContentResponse()
  @ApiErrors(404, 409)
  remove(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    return this.jobs.remove(caller, id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOkResponse({ type: JobResponse })
  @ApiErrors(400, 404)
  pause(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body() body: PauseJobDto) {
    return this.jobs.setPaused(caller, id, true, body.note ?? null);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiOkResponse({ type: JobResponse })
  @ApiErrors(404)
  resume(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    return this.jobs.setPaused(caller, id, false, null);
  }

  @Post(':id/trigger')
  @HttpCode(202)
  @ApiOperation({ summary: "Queue a manual run now; params given are merged over the job's" })
  @ApiAcceptedResponse({ type: RunResponse, description: '`Location` names the run.' })
  @ApiErrors(400, 404, 413)
  async trigger(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body() body: TriggerJobDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const run = await this.jobs.trigger(caller, id, body.params);
    reply.header('Location', `/api/cron/runs/${run.id}`);
    return run;
  }

  @Get(':id/next')
  @ApiOperation({ summary: 'The next instants, in UTC and in the job\'s time zone, with notes where DST moves or doubles one' })
  @ApiOkResponse({ type: NextRunsResponse })
  @ApiErrors(400, 404)
  next(@CurrentCaller() caller: Caller, @Param('id') id: string, @Query() query: NextRunsQuery) {
    return this.jobs.upcoming(caller, id, query.n ?? 20);
  }

  @Get(':id/runs')
  @ApiOperation({ summary: "The job's runs, newest first, paginated" })
  @ApiOkResponse({ type: RunPageResponse })
  @ApiErrors(400, 404)
  listRuns(@CurrentCaller() caller: Caller, @Param('id') id: string, @Query() query: ListRunsQuery) {
    return this.runs.listForJob(caller, id, query.limit ?? 50, query.cursor ?? null);
  }
}
