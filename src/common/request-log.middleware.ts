import { Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/** Balancer and Prometheus polls: logged only at verbose level, or they would drown everything else. */
const POLLS = /^\/(health|metrics)(\/|$)/;

/**
 * One log line per request: method, path (no query string), status, duration and client
 * address. Never headers, so no token reaches the log.
 */
@Injectable()
export class RequestLogMiddleware implements NestMiddleware {
  private readonly logger = new Logger('HTTP');

  use(request: Request, response: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
      const path = request.originalUrl.split('?')[0];
      const line = { message: `${request.method} ${path} ${response.statusCode} ${durationMs} ms`, method: request.method, path, status: response.statusCode, durationMs, ip: request.ip };
      if (POLLS.test(path)) this.logger.verbose(line);
      else this.logger.log(line);
    });
    next();
  }
}
