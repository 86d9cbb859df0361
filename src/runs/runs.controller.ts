import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CurrentCaller } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { OutputQuery } from './runs.dto.js';
import { RunsService } from './runs.service.js';

@ApiTags('runs')
@ApiBearerAuth()
@Controller('api/cron/runs')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Get(':id')
  get(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    return this.runs.get(caller, id);
  }

  @Get(':id/output')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiProduces('text/plain')
  output(@CurrentCaller() caller: Caller, @Param('id') id: string, @Query() query: OutputQuery) {
    return this.runs.outputText(caller, id, query.stream);
  }
}
