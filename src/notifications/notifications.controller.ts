import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentCaller } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { RunsService } from '../runs/runs.service.js';
import { NotificationsRepository } from './notifications.repository.js';

@ApiTags('runs')
@ApiBearerAuth()
@Controller('api/cron/runs')
export class NotificationsController {
  constructor(private readonly runs: RunsService, private readonly deliveries: NotificationsRepository) {}

  /** The run's webhook deliveries: where, for which event, delivered or not, and the last error. */
  @Get(':id/notifications')
  async list(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    await this.runs.visible(caller, id);
    return (await this.deliveries.forRun(id)).map(({ secret: _secret, payload: _payload, ...delivery }) => delivery);
  }
}
