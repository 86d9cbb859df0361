import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentCaller } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { NodesService } from './nodes.service.js';

@ApiTags('nodes')
@ApiBearerAuth()
@Controller('api/cron/nodes')
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  /** The daemons sharing this database, alive or lately gone, each with its running runs (admin). */
  @Get()
  list(@CurrentCaller() caller: Caller) {
    return this.nodes.list(caller);
  }
}
