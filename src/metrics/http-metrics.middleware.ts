import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsService } from './metrics.service.js';

/** Times every request; labels use the route pattern (`/api/cron/jobs/:id`), never the raw path, to bound cardinality. */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const start = process.hrtime.bigint();
    response.on('finish', () => {
      const route = request.route?.path ? `${request.baseUrl}${request.route.path}` : 'unmatched';
      this.metrics.httpRequest(request.method, route, response.statusCode, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  }
}
