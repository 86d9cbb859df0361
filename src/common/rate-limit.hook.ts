import { Inject, Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { formatDuration } from '../config/durations.js';
import { Clock } from './clock.js';
import type { HttpHook } from './http-app.js';

/** At most `limit` requests per client address in each window of `windowMs`. */
export interface RateLimit {
  limit: number;
  windowMs: number;
}

/** Injection token for the `RateLimit` in force. */
export const RATE_LIMIT = Symbol('RateLimit');

/** Whether a request is for the API (`/api/…`, in any case, as the routes match). */
function isApiRequest(request: FastifyRequest): boolean {
  return /^\/api\//i.test(request.url);
}

interface Window {
  start: number;
  count: number;
}

/**
 * A fixed-window rate limit per client address, for /api routes: a Fastify `onRequest` hook. Over
 * the limit: 429 with `Retry-After`. Every answer carries `X-RateLimit-Limit`, `-Remaining` and
 * `-Reset` (seconds). Counts are per node, and read the injected `Clock`, which tests move by hand.
 */
@Injectable()
export class RateLimitHook implements HttpHook {
  private readonly windows = new Map<string, Window>();
  private lastSweep = 0;

  constructor(@Inject(RATE_LIMIT) private readonly rate: RateLimit, private readonly clock: Clock) {}

  addTo(fastify: FastifyInstance): void {
    fastify.addHook('onRequest', (request, reply, done) => this.onRequest(request, reply, done));
  }

  onRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (!isApiRequest(request)) return done();
    const now = this.clock.now();
    const window = this.windowOf(request.ip, now);
    window.count++;
    const resetS = Math.max(1, Math.ceil((window.start + this.rate.windowMs - now) / 1000));
    reply.header('X-RateLimit-Limit', String(this.rate.limit));
    reply.header('X-RateLimit-Remaining', String(Math.max(0, this.rate.limit - window.count)));
    reply.header('X-RateLimit-Reset', String(resetS));
    if (window.count <= this.rate.limit) return done();
    // Answered here, the request goes no further (done is not called).
    reply.header('Retry-After', String(resetS));
    reply.status(429).send({
      statusCode: 429,
      message: `too many requests: at most ${this.rate.limit} per ${formatDuration(this.rate.windowMs)} from one address; retry in ${resetS}s`,
    });
  }

  private windowOf(key: string, now: number): Window {
    let window = this.windows.get(key);
    if (window && now - window.start < this.rate.windowMs) return window;
    // Forget finished windows once per window length, so the map holds only recent clients.
    if (now - this.lastSweep >= this.rate.windowMs) {
      for (const [other, old] of this.windows) if (now - old.start >= this.rate.windowMs) this.windows.delete(other);
      this.lastSweep = now;
    }
    window = { start: now, count: 0 };
    this.windows.set(key, window);
    return window;
  }
}
