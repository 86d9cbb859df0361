import perfHooks from 'node:perf_hooks';
import { jest } from '@jest/globals';
import { DataSource } from 'typeorm';
import { Database } from '../database/database.js';
import { EVENT_LOOP_SAMPLE_MS, MetricsService } from './metrics.service.js';

describe('MetricsService', () => {
  afterEach(() => jest.restoreAllMocks());

  it('samples the event-loop delay once a second, not every 10 ms (an idle daemon must not wake 100 times a second)', () => {
    const monitor = jest.spyOn(perfHooks, 'monitorEventLoopDelay');
    // The database is only read when /metrics is scraped, which this test does not do: it is never connected.
    new MetricsService(new Database(new DataSource({ type: 'postgres' }), 'postgres'));
    expect(monitor).toHaveBeenCalledTimes(1);
    expect(monitor.mock.calls[0][0]).toEqual({ resolution: EVENT_LOOP_SAMPLE_MS });
    expect(EVENT_LOOP_SAMPLE_MS).toBeGreaterThanOrEqual(1_000);
  });

  it('still reports the event-loop delay figures', async () => {
    const metrics = new MetricsService(new Database(new DataSource({ type: 'postgres' }), 'postgres'));
    const text = await metrics.registry.getSingleMetricAsString('cronwarden_nodejs_eventloop_lag_max_seconds');
    expect(text).toMatch(/^cronwarden_nodejs_eventloop_lag_max_seconds \d/m);
  });
});
