import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG } from '../config/config.module.js';
import type { CronwardenConfig } from '../config/config.types.js';
import type { HttpHook } from './http-app.js';
import { logsAt } from './log-levels.js';

/** Balancer and Prometheus polls: logged only at verbose level, or they would drown everything else. */
const POLLS = /^\/(health|metrics)(\/|$)/;

/**
 * One log line per request, as it is answered (a Fastify `onResponse` hook): method, path (no query
 * string), status, duration and client address. Never headers, so no token reaches the log. Below
 * the level of the line (LOG_LEVEL=warn) no hook is added at all.
 */
@Injectable()
export class RequestLogHook implements HttpHook {
  private readonly logger = new Logger('HTTP');
  private readonly logsRequests: boolean;
  private readonly logsPolls: boolean;

  constructor(@Inject(CONFIG) config: CronwardenConfig) {
    this.logsRequests = logsAt(config.env.logLevel, 'info');
    this.logsPolls = logsAt(config.env.logLevel, 'verbose');
  }

  addTo(fastify: FastifyInstance): void {
    if (!this.logsRequests) return;
    fastify.addHook('onResponse', (request, reply, done) => {
      this.log(request, reply);
      done();
    });
  }

  private log(request: FastifyRequest, reply: FastifyReply): void {
    const path = request.url.split('?')[0];
    const poll = POLLS.test(path);
    if (poll && !this.logsPolls) return;
    const durationMs = Math.round(reply.elapsedTime);
    const line = { message: `${request.method} ${path} ${reply.statusCode} ${durationMs} ms`, method: request.method, path, status: reply.statusCode, durationMs, ip: request.ip };
    if (poll) this.logger.verbose(line);
    else this.logger.log(line);
  }
}
