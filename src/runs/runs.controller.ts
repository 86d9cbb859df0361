import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentCaller } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { ApiErrors, ApiProtected } from '../openapi.js';
import { OutputStreamService } from './output-stream.js';
import { CancelRunDto, ListAllRunsQuery, OutputQuery, OutputStreamQuery } from './runs.dto.js';
import { RunsService } from './runs.service.js';
import { RunDetailResponse, RunPageResponse, RunResponse } from './runs.view.js';

@ApiTags('runs')
@ApiProtected()
@Controller('api/cron/runs')
export class RunsController {
  constructor(private readonly runs: RunsService, private readonly streams: OutputStreamService) {}

  @Get()
  @ApiOperation({ summary: 'Runs of every job the caller may see, newest first, filtered, paginated by cursor' })
  @ApiOkResponse({ type: RunPageResponse })
  @ApiErrors(400)
  list(@CurrentCaller() caller: Caller, @Query() query: ListAllRunsQuery) {
    return this.runs.list(caller, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One run, with the progress its child last reported' })
  @ApiOkResponse({ type: RunDetailResponse })
  @ApiErrors(404)
  get(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    return this.runs.get(caller, id);
  }

  @Get(':id/output')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiProduces('text/plain')
  @ApiOperation({ summary: 'The stored output as text: the head, a line saying how much was dropped, the tail' })
  @ApiOkResponse({ schema: { type: 'string' } })
  @ApiErrors(400, 404)
  output(@CurrentCaller() caller: Caller, @Param('id') id: string, @Query() query: OutputQuery) {
    return this.runs.outputText(caller, id, query.stream, query.tail);
  }

  @Get(':id/output/stream')
  @ApiProduces('text/event-stream')
  @ApiOperation({
    summary: 'The output live, as server-sent events, until the run ends',
    description: 'Events: `run` (the run; again on each status change), `output` ({stream, text}: stored output first, then new '
      + 'chunks within about a second; past half of maxOutputBytes, every 2 s on a node other than the one running it), `progress` ({progress, note}: a `::progress` line of stdout), `dropped` (output beyond maxOutputBytes was dropped here), `end` (the finished run), '
      + '`error` (the database stopped answering). A comment line every 15 s keeps the connection open.',
  })
  @ApiOkResponse({ schema: { type: 'string' } })
  @ApiErrors(400, 404)
  stream(@CurrentCaller() caller: Caller, @Param('id') id: string, @Query() query: OutputStreamQuery, @Res() reply: FastifyReply) {
    return this.streams.follow(caller, id, query.stream, reply);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a run: a queued one at once (200); a running one is stopped — SIGTERM, then SIGKILL after killGrace (202)' })
  @ApiOkResponse({ type: RunResponse, description: 'Cancelled (it was queued).' })
  @ApiAcceptedResponse({ type: RunResponse, description: 'Being stopped; it ends as `cancelled`.' })
  @ApiErrors(400, 404, 409)
  async cancel(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body() body: CancelRunDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const { run, done } = await this.runs.cancel(caller, id, body.reason);
    if (!done) reply.status(202);
    return run;
  }
}
