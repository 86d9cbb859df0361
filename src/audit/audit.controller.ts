import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiProtected } from '../openapi.js';
import { CurrentCaller } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { ListAuditQuery } from './audit.dto.js';
import { AuditLog, AuditPageResponse } from './audit-log.js';

@ApiTags('audit')
@ApiProtected()
@Controller('api/cron/audit')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @Get()
  @ApiOperation({ summary: 'Every change made through the API (admins only), newest first' })
  @ApiOkResponse({ type: AuditPageResponse })
  @ApiErrors(400)
  list(@CurrentCaller() caller: Caller, @Query() query: ListAuditQuery) {
    return this.audit.list(caller, query);
  }
}
