import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProtected } from '../openapi.js';
import { NodeResponse } from './nodes.view.js';
import { CurrentCaller } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { NodesService } from './nodes.service.js';

@ApiTags('nodes')
@ApiProtected()
@Controller('api/cron/nodes')
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  /** The daemons sharing this database, alive or lately gone, each with its running runs (admin). */
  @Get()
  @ApiOperation({ summary: 'The nodes (daemons) sharing the database, with their running runs; admin only.' })
  @ApiOkResponse({ type: [NodeResponse] })
  list(@CurrentCaller() caller: Caller) {
    return this.nodes.list(caller);
  }
}
