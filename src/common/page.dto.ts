import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsDate, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/** `?limit=&cursor=` of every list that pages newest first. */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, description: 'Page size (default 50; 100 for the audit log).' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page.' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor must be a cursor returned by a previous page' })
  cursor?: string;
}

/** An optional `?since=` filter: an ISO 8601 date-time, parsed to a Date. */
export function SinceQuery(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description, example: '2026-01-01T00:00:00Z' }),
    IsOptional(),
    Transform(({ value }) => (typeof value === 'string' && /^\d{4}-\d\d-\d\d/.test(value) ? new Date(value) : value)),
    IsDate({ message: 'since must be an ISO 8601 date-time such as 2026-01-01T00:00:00Z' }),
  );
}
