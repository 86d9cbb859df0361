import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

/** Query of GET /api/cron/runs/:id/output. */
export class OutputQuery {
  @ApiPropertyOptional({ enum: ['stdout', 'stderr'], description: 'Only this stream; both, in written order, by default.' })
  @IsOptional()
  @IsIn(['stdout', 'stderr'], { message: 'stream must be stdout or stderr' })
  stream?: 'stdout' | 'stderr';
}
