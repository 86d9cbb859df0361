import { Clock } from '../common/clock.js';
import { PreparedJson } from '../common/prepared-json.js';
import { Notifier } from '../database/notifier.js';
import { JobListCache, type ComputedPage } from './job-list-cache.js';

class FixedClock extends Clock {
  at = 1_000_000;
  override now(): number {
    return this.at;
  }
}

describe('JobListCache', () => {
  let clock: FixedClock;
  let notifier: Notifier;
  let cache: JobListCache;
  let reads: number;

  beforeEach(() => {
    clock = new FixedClock();
    notifier = new Notifier('node-a', null);
    cache = new JobListCache(clock, notifier);
    cache.onModuleInit();
    reads = 0;
  });
  afterEach(() => cache.onModuleDestroy());

  /** A read of the page of jobs after `after` that ends at `upper`, answering its read number. */
  const page = (after = '', upper: string | null = 'job-m', validUntil = Number.POSITIVE_INFINITY) =>
    cache.page(`page-${after}`, after, async (): Promise<ComputedPage> => {
      reads += 1;
      return { body: new PreparedJson(JSON.stringify({ read: reads })), upper, validUntil };
    }).then((json) => JSON.parse(json.text) as { read: number });

  it('answers a page again from memory until something changes it', async () => {
    expect(await page()).toEqual({ read: 1 });
    expect(await page()).toEqual({ read: 1 });
    expect(reads).toBe(1);
  });

  it('reads once for requests that arrive while a read is under way', async () => {
    const answers = await Promise.all([page(), page(), page()]);
    expect(answers).toEqual([{ read: 1 }, { read: 1 }, { read: 1 }]);
    expect(reads).toBe(1);
  });

  it('drops a page when a job in its id range or one of its runs changes, and keeps it for jobs outside the range', async () => {
    await page('job-c', 'job-m');
    notifier.publish('job.changed', { jobId: 'job-z' });
    notifier.publish('run.queued', { runId: 'r1', jobIds: ['job-a', 'job-c'] });
    expect(await page('job-c', 'job-m')).toEqual({ read: 1 });
    notifier.publish('run.finished', { runId: 'r2', status: 'succeeded', jobIds: ['job-m'] });
    expect(await page('job-c', 'job-m')).toEqual({ read: 2 });
    notifier.publish('job.changed', { jobId: 'job-d' });
    expect(await page('job-c', 'job-m')).toEqual({ read: 3 });
    notifier.publish('run.changed', { jobIds: ['job-e'] });
    expect(await page('job-c', 'job-m')).toEqual({ read: 4 });
    notifier.publish('run.cancel', { runId: 'r3', jobIds: ['job-f'] });
    expect(await page('job-c', 'job-m')).toEqual({ read: 5 });
  });

  it('drops the last page (read to the end) for any later job, such as a new one', async () => {
    await page('job-c', null);
    notifier.publish('job.changed', { jobId: 'zzz-new' });
    expect(await page('job-c', null)).toEqual({ read: 2 });
  });

  it('drops every page for a signal that does not name its jobs (an older node, or too many)', async () => {
    await page('a');
    await page('b');
    notifier.publish('run.queued', { runId: 'r1' });
    expect(await page('a')).toEqual({ read: 3 });
    expect(await page('b')).toEqual({ read: 4 });
  });

  it('does not keep a read that a change overtook, and does not hand it to requests that come after the change', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = cache.page('p', '', async () => {
      await gate;
      return { body: new PreparedJson('"before the change"'), upper: null, validUntil: Number.POSITIVE_INFINITY };
    });
    notifier.publish('job.changed', { jobId: 'job-b' });
    const after = page('', null);
    release();
    expect((await slow).text).toBe('"before the change"');
    expect(await after).toEqual({ read: 1 });
    // The overtaken read was not stored: the next request reads afresh.
    await Promise.resolve();
    expect(await cache.page('p', '', async () => ({ body: new PreparedJson('"fresh"'), upper: null, validUntil: Number.POSITIVE_INFINITY })).then((json) => json.text)).toBe('"fresh"');
  });

  /** A read held at a gate: `release()` lets it answer `text` for the ids after '' up to `upper`. */
  const heldRead = (text: string, upper: string | null) => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const answer = cache.page('p', '', async () => {
      await gate;
      return { body: new PreparedJson(JSON.stringify(text)), upper, validUntil: Number.POSITIVE_INFINITY };
    });
    return { release, answer: answer.then((json) => JSON.parse(json.text) as string) };
  };
  const fresh = () => cache.page('p', '', async () => ({ body: new PreparedJson('"fresh"'), upper: null, validUntil: Number.POSITIVE_INFINITY })).then((json) => JSON.parse(json.text) as string);

  it('keeps a read that changes overtook when none of them lies in the range it turned out to read (runs of a later job)', async () => {
    const held = heldRead('up to job-m', 'job-m');
    notifier.publish('run.queued', { runId: 'r1', jobIds: ['job-z'] });
    notifier.publish('run.finished', { runId: 'r1', status: 'succeeded', jobIds: ['job-z'] });
    // A request after the change does not join the read: it could not know yet that job-z is beyond it.
    expect(await page('', 'job-m')).toEqual({ read: 1 });
    held.release();
    expect(await held.answer).toBe('up to job-m');
    expect(await fresh()).toBe('up to job-m');
  });

  it('does not keep a read when a job of its range changes after another change already set it apart', async () => {
    const held = heldRead('up to job-m', 'job-m');
    notifier.publish('job.changed', { jobId: 'job-z' });
    notifier.publish('job.changed', { jobId: 'job-b' });
    held.release();
    expect(await held.answer).toBe('up to job-m');
    expect(await fresh()).toBe('fresh');
  });

  it('does not keep a read under way when a signal names no jobs', async () => {
    const held = heldRead('up to job-m', 'job-m');
    notifier.publish('run.changed', {});
    held.release();
    expect(await held.answer).toBe('up to job-m');
    expect(await fresh()).toBe('fresh');
  });

  it('reads again once the page\'s own time runs out (a next run passes, a job turns late)', async () => {
    await page('', 'job-m', clock.at + 500);
    clock.at += 499;
    expect(await page('', 'job-m', clock.at + 500)).toEqual({ read: 1 });
    clock.at += 1;
    expect(await page('', 'job-m', clock.at + 500)).toEqual({ read: 2 });
  });

  it('reads again after maxAgeMs without any signal (another node\'s write whose signal was lost)', async () => {
    cache.setLimits({ maxAgeMs: 1000 });
    await page();
    clock.at += 999;
    expect(await page()).toEqual({ read: 1 });
    clock.at += 1;
    expect(await page()).toEqual({ read: 2 });
  });

  it('reads a page again past half its maxAgeMs while still serving it, so nobody waits for the new one', async () => {
    cache.setLimits({ maxAgeMs: 1000 });
    await page();
    clock.at += 499;
    expect(await page()).toEqual({ read: 1 });
    expect(reads).toBe(1);
    clock.at += 1;
    expect(await page()).toEqual({ read: 1 });
    expect(reads).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    clock.at += 400;
    expect(await page()).toEqual({ read: 2 });
    expect(reads).toBe(2);
  });

  it('serves the stored page until its maxAgeMs when the read past half of it fails', async () => {
    cache.setLimits({ maxAgeMs: 1000 });
    let fail = false;
    const flaky = () => cache.page('p', '', async () => {
      reads += 1;
      if (fail) throw new Error('database away');
      return { body: new PreparedJson(JSON.stringify({ read: reads })), upper: null, validUntil: Number.POSITIVE_INFINITY };
    }).then((json) => JSON.parse(json.text) as { read: number });
    await flaky();
    fail = true;
    clock.at += 600;
    expect(await flaky()).toEqual({ read: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads).toBe(2);
    clock.at += 400;
    await expect(flaky()).rejects.toThrow('database away');
  });

  it('keeps at most maxBytes of pages, dropping the least recently used first', async () => {
    cache.setLimits({ maxBytes: 30 });
    const sized = (key: string) => cache.page(key, '', async () => {
      reads += 1;
      return { body: new PreparedJson(JSON.stringify(`${key}-${'x'.repeat(8)}`)), upper: null, validUntil: Number.POSITIVE_INFINITY };
    });
    await sized('a');
    await sized('b');
    await sized('a');
    expect(reads).toBe(2);
    // 12 bytes a page: the third does not fit, and b, used longest ago, goes.
    await sized('c');
    expect(reads).toBe(3);
    expect(cache.stats).toEqual({ pages: 2, bytes: 24 });
    await sized('a');
    expect(reads).toBe(3);
    await sized('b');
    expect(reads).toBe(4);
  });

  it('gives a failed read to those waiting for it and keeps nothing', async () => {
    const failing = cache.page('p', '', async () => {
      throw new Error('database away');
    });
    await expect(failing).rejects.toThrow('database away');
    expect(cache.stats.pages).toBe(0);
    expect((await cache.page('p', '', async () => ({ body: new PreparedJson('"again"'), upper: null, validUntil: Number.POSITIVE_INFINITY }))).text).toBe('"again"');
  });
});
