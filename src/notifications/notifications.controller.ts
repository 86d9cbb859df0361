import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiProtected } from '../openapi.js';
import { CurrentCaller } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { RunsService } from '../runs/runs.service.js';
import { NotificationsRepository } from './notifications.repository.js';

/** One webhook delivery (OpenAPI); the secret and the payload are never shown. */
class DeliveryResponse {
  @ApiProperty() id: string;
  @ApiProperty({ type: String, nullable: true }) runId: string | null;
  @ApiProperty() url: string;
  @ApiProperty({ enum: ['failed', 'timed_out', 'abandoned', 'cancelled', 'succeeded', 'recovered', 'late'] }) event: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty() nextAttemptAt: string;
  @ApiProperty({ type: String, nullable: true }) lastError: string | null;
  @ApiProperty({ type: String, nullable: true }) deliveredAt: string | null;
}

@ApiTags('runs')
@ApiProtected()
@Controller('api/cron/runs')
export class NotificationsController {
  constructor(private readonly runs: RunsService, private readonly deliveries: NotificationsRepository) {}

  /** The run's webhook deliveries: where, for which event, delivered or not, and the last error. */
  @Get(':id/notifications')
  @ApiOperation({ summary: "The run's webhook deliveries: target, event, status, attempts, last error." })
  @ApiOkResponse({ type: [DeliveryResponse] })
  @ApiErrors(404)
  async list(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    await this.runs.visible(caller, id);
    return (await this.deliveries.forRun(id)).map(({ secret: _secret, payload: _payload, ...delivery }) => delivery);
  }
}
