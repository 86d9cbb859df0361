import { Controller, Get, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { CurrentCaller } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { PageQuery } from '../common/page.dto.js';
import { ApiErrors, ApiProtected } from '../openapi.js';
import { StatsService } from './stats.service.js';
import { StatsOverviewResponse, StatsPageResponse } from './stats.view.js';

@ApiTags('stats')
@ApiProtected()
@Controller('api/cron/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  @ApiOperation({
    summary: "Statistics over each visible job's latest 100 runs, and in total",
    description: 'With `limit` or `cursor`: one page of jobs in id order, `{items, nextCursor}`, without a total; reads only those jobs\' runs. '
      + 'Without either: every job and the total, which reads the latest runs of every job (seconds with 100,000 jobs).',
  })
  @ApiExtraModels(StatsOverviewResponse, StatsPageResponse)
  @ApiOkResponse({ schema: { oneOf: [{ $ref: getSchemaPath(StatsOverviewResponse) }, { $ref: getSchemaPath(StatsPageResponse) }] } })
  @ApiErrors(400)
  overview(@CurrentCaller() caller: Caller, @Query() query: PageQuery) {
    if (query.limit === undefined && query.cursor === undefined) return this.stats.overview(caller);
    return this.stats.page(caller, query.limit ?? 50, query.cursor ?? null);
  }
}
