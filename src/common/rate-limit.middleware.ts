import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { formatDuration } from '../config/durations.js';
import { Clock } from './clock.js';

/** At most `limit` requests per client address in each window of `windowMs`. */
export interface RateLimit {
  limit: number;
  windowMs: number;
}

/** Injection token for the `RateLimit` in force. */
export const RATE_LIMIT = Symbol('RateLimit');


interface Window {
  start: number;
  count: number;
}

/**
 * A fixed-window rate limit per client address, for /api routes. Over the limit: 429 with
 * `Retry-After`. Every answer carries `X-RateLimit-Limit`, `-Remaining` and `-Reset` (seconds).
 * Counts are per node. (`@nestjs/throttler` is CommonJS requiring the ESM-only Nest 12, which
 * Jest cannot load; this is the few lines of it the daemon needs.)
 */
@Injectable()
export class RateLimitMiddleware implements NestMiddleware {
  private readonly windows = new Map<string, Window>();
  private lastSweep = 0;

  constructor(@Inject(RATE_LIMIT) private readonly rate: RateLimit, private readonly clock: Clock) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const now = this.clock.now();
    const window = this.windowOf(request.ip ?? request.socket.remoteAddress ?? 'unknown', now);
    window.count++;
    const resetS = Math.max(1, Math.ceil((window.start + this.rate.windowMs - now) / 1000));
    response.setHeader('X-RateLimit-Limit', String(this.rate.limit));
    response.setHeader('X-RateLimit-Remaining', String(Math.max(0, this.rate.limit - window.count)));
    response.setHeader('X-RateLimit-Reset', String(resetS));
    if (window.count <= this.rate.limit) return next();
    response.setHeader('Retry-After', String(resetS));
    response.status(429).json({
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
