import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiProtected } from '../openapi.js';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig } from '../config/config.types.js';
import { PipelineResponse, pipelineViews } from './pipelines.view.js';

/** The pipeline catalog: defined only in the config file, read-only here, for every role. */
@ApiTags('pipelines')
@ApiProtected()
@Controller('api/cron/pipelines')
export class PipelinesController {
  constructor(@Inject(CONFIG) private readonly config: CronwardenConfig) {}

  @Get()
  @ApiOkResponse({ type: [PipelineResponse] })
  list() {
    return pipelineViews(this.config.pipelines);
  }
}
