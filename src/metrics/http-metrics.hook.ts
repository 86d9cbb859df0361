import { Injectable } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { HttpHook } from '../common/http-app.js';
import { MetricsService } from './metrics.service.js';

/**
 * Times every request as it is answered (a Fastify `onResponse` hook); labels use the route pattern
 * (`/api/cron/jobs/:id`), never the raw path, to bound cardinality.
 */
@Injectable()
export class HttpMetricsHook implements HttpHook {
  constructor(private readonly metrics: MetricsService) {}

  addTo(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', (request, reply, done) => {
      this.metrics.httpRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }
}
