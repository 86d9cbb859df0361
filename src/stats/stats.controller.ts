import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentCaller } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { ApiProtected } from '../openapi.js';
import { StatsService } from './stats.service.js';
import { StatsOverviewResponse } from './stats.view.js';

@ApiTags('stats')
@ApiProtected()
@Controller('api/cron/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  @ApiOperation({ summary: "Statistics over each visible job's latest 100 runs, and in total" })
  @ApiOkResponse({ type: StatsOverviewResponse })
  overview(@CurrentCaller() caller: Caller) {
    return this.stats.overview(caller);
  }
}
