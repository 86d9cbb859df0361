import { Controller, Get, Module, type NestModule } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Clock } from './clock.js';
import { RATE_LIMIT, RateLimitHook } from './rate-limit.hook.js';
import { addHttpHooks, httpAdapter } from './http-app.js';

@Controller()
class ProbeController {
  @Get('api/probe')
  probe() {
    return { ok: true };
  }

  @Get('health')
  health() {
    return { ok: true };
  }
}

/** A clock the test moves by hand. */
class ManualClock extends Clock {
  at = 1_000_000;
  override now(): number {
    return this.at;
  }
}

const clock = new ManualClock();

@Module({
  controllers: [ProbeController],
  providers: [{ provide: RATE_LIMIT, useValue: { limit: 3, windowMs: 60_000 } }, { provide: Clock, useValue: clock }, RateLimitHook],
})
class ProbeModule implements NestModule {
  constructor(private readonly adapterHost: HttpAdapterHost, private readonly hook: RateLimitHook) {}

  configure(): void {
    addHttpHooks(this.adapterHost, [this.hook]);
  }
}

describe('RateLimitHook', () => {
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ProbeModule] }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(httpAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    close = () => app.close();
  });
  afterAll(() => close());

  it('lets `limit` requests through per window, then answers 429 with Retry-After until the window ends', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${url}/api/probe`)).status);
    expect(statuses).toEqual([200, 200, 200]);
    clock.at += 20_000;
    const refused = await fetch(`${url}/api/probe`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('40');
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(((await refused.json()) as { message: string }).message).toMatch(/at most 3 per 1m .*retry in 40s/);
    clock.at += 40_000;
    const again = await fetch(`${url}/api/probe`);
    expect(again.status).toBe(200);
    expect(again.headers.get('x-ratelimit-remaining')).toBe('2');
  });

  it('does not count or limit routes outside /api', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${url}/health`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit')).toBeNull();
    }
  });
});
