import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiProtected } from '../openapi.js';
import { PreviewDto } from './jobs.dto.js';
import { JobsService } from './jobs.service.js';
import { PreviewResponse } from './schedule-preview.js';

/** POST /api/cron/preview: what a cron/timezone/every would do, before it is saved (dashboard, CLI). */
@ApiTags('jobs')
@ApiProtected()
@Controller('api/cron/preview')
export class PreviewController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'The next instants of a cron/timezone/every that is not saved, with DST notes' })
  @ApiOkResponse({ type: PreviewResponse })
  @ApiErrors(400, 413)
  preview(@Body() body: PreviewDto) {
    return this.jobs.preview(body);
  }
}
