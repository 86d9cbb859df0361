import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { PreparedJson } from '../common/prepared-json.js';
import { Notifier, type JobIds } from '../database/notifier.js';

/** What a page's computation hands the cache besides its body. */
export interface ComputedPage {
  /** The response, serialised. */
  body: PreparedJson;
  /**
   * The id of the last row read (one past the page, when there is a next page), or null when the
   * read reached the end: a change to a job with a later id cannot change this page.
   */
  upper: string | null;
  /** When the page stops being what a fresh computation would answer (a next run passes, a job turns late). */
  validUntil: number;
}

/** Whether a page of the jobs after `after` up to `upper` (null: to the end) may show job `id`. */
function inRange(id: string, after: string, upper: string | null): boolean {
  return id > after && (upper === null || id <= upper);
}

/** Whether a job that changed while the read was under way lies in the range it read: the rule stored pages follow. */
function overtaken(fill: Fill, upper: string | null): boolean {
  return fill.changed === 'any' || fill.changed.some((id) => inRange(id, fill.after, upper));
}

interface Entry {
  after: string;
  upper: string | null;
  body: PreparedJson;
  validUntil: number;
  /** When its reads began: other nodes' unsignalled writes are older than this plus maxAgeMs. */
  readAt: number;
}

interface Fill {
  key: string;
  after: string;
  promise: Promise<PreparedJson>;
  /**
   * The jobs after `after` that changed while it read ('any' for a signal without ids). Its range
   * is known only once it has read, so a change first stops new requests from joining it; its
   * page is kept afterwards only if none of these jobs lies in the range it read.
   */
  changed: string[] | 'any';
}

export interface JobListCacheLimits {
  /** Bytes of pages kept (their JSON and its gzipped copy), at most; the least recently used page goes first. */
  maxBytes: number;
  /** How long a page may be served without a signal saying it changed (a lost NOTIFY, another node's claim). */
  maxAgeMs: number;
}

const DEFAULT_LIMITS: JobListCacheLimits = { maxBytes: 16 * 1024 * 1024, maxAgeMs: 1000 };

/**
 * Serialised pages of GET /api/cron/jobs?limit=…, one per (caller visibility, filter, cursor,
 * limit), so fifty clients listing the same page cost one read of the database, not fifty.
 *
 * Never older than a write of this node: every write that changes a listed job or its runs sends
 * a signal (job.changed, run.queued, run.changed, run.cancel, run.finished) after it commits, and
 * the signal drops the pages whose id range holds the job before the writer answers its client;
 * a read under way is no longer joined, and is kept only if the range it read does not hold the
 * job (under a steady stream of runs of one job, dropping every read under way left the page
 * unkept most of the time). Other nodes' writes arrive as the same signals through LISTEN/NOTIFY;
 * one lost there is covered by `maxAgeMs`, the longest a page is served unread.
 */
@Injectable()
export class JobListCache implements OnModuleInit, OnModuleDestroy {
  private readonly entries = new Map<string, Entry>();
  /** Reads that new requests for the key may join. */
  private readonly fills = new Map<string, Fill>();
  /** Every read under way, joinable or not: each must hear of every change until it ends. */
  private readonly reading = new Set<Fill>();
  private bytes = 0;
  private unsubscribe: Array<() => void> = [];
  private readonly limits: JobListCacheLimits = { ...DEFAULT_LIMITS };

  constructor(private readonly clock: Clock, private readonly notifier: Notifier) {}

  onModuleInit(): void {
    const some = ({ jobIds }: JobIds) => this.invalidate(jobIds);
    this.unsubscribe = [
      this.notifier.on('job.changed', ({ jobId }) => this.invalidate([jobId])),
      this.notifier.on('run.queued', some),
      this.notifier.on('run.changed', some),
      this.notifier.on('run.cancel', some),
      this.notifier.on('run.finished', some),
    ];
  }

  onModuleDestroy(): void {
    for (const off of this.unsubscribe) off();
    this.clear();
  }

  /** Replaces the limits (tests: a long maxAgeMs proves the signals do the work). */
  setLimits(limits: Partial<JobListCacheLimits>): void {
    Object.assign(this.limits, limits);
  }

  /**
   * The page under `key` (its rows have ids after `after`): the stored one while valid, else the
   * one being read, else `compute()`'s, which is stored. A page served past half its `maxAgeMs` is
   * read again meanwhile, so that clients find the new one ready rather than all waiting for it.
   */
  async page(key: string, after: string, compute: () => Promise<ComputedPage>): Promise<PreparedJson> {
    const now = this.clock.now();
    const entry = this.entries.get(key);
    if (entry && now < entry.validUntil && now - entry.readAt < this.limits.maxAgeMs) {
      // Most recently used last: the first in the map goes first when full.
      this.entries.delete(key);
      this.entries.set(key, entry);
      if (now - entry.readAt >= this.limits.maxAgeMs / 2 && !this.fills.has(key)) {
        // Nobody waits for this read; a failure shows when the page is next read for a request.
        this.read(key, after, compute, now).catch(() => undefined);
      }
      return entry.body;
    }
    if (entry) this.drop(key, entry);
    return this.fills.get(key)?.promise ?? this.read(key, after, compute, now);
  }

  /** Drops every page that may show one of these jobs, and the reads under way for them; all pages without ids. */
  invalidate(jobIds: readonly string[] | undefined): void {
    if (jobIds === undefined) return this.clear();
    if (jobIds.length === 0) return;
    for (const fill of this.reading) {
      const later = jobIds.filter((id) => id > fill.after);
      if (later.length === 0) continue;
      if (fill.changed !== 'any') fill.changed.push(...later);
      this.detach(fill);
    }
    for (const [key, entry] of this.entries) {
      if (jobIds.some((id) => inRange(id, entry.after, entry.upper))) this.drop(key, entry);
    }
  }

  /** Pages stored and their bytes (for tests and metrics). */
  get stats(): { pages: number; bytes: number } {
    return { pages: this.entries.size, bytes: this.bytes };
  }

  private clear(): void {
    for (const fill of this.reading) {
      fill.changed = 'any';
      this.detach(fill);
    }
    this.entries.clear();
    this.bytes = 0;
  }

  /** Reads the page and stores it unless a change in the range it read overtook it; requests for the key join it meanwhile. */
  private read(key: string, after: string, compute: () => Promise<ComputedPage>, now: number): Promise<PreparedJson> {
    const fill = { key, after, changed: [] as string[] } as Fill;
    fill.promise = compute().then(
      (page) => {
        this.end(fill);
        if (!overtaken(fill, page.upper)) this.store(key, { after, upper: page.upper, body: page.body, validUntil: page.validUntil, readAt: now });
        return page.body;
      },
      (error: unknown) => {
        this.end(fill);
        throw error;
      },
    );
    this.fills.set(key, fill);
    this.reading.add(fill);
    return fill.promise;
  }

  /** New requests no longer join the read: it may have begun before the change. */
  private detach(fill: Fill): void {
    if (this.fills.get(fill.key) === fill) this.fills.delete(fill.key);
  }

  private end(fill: Fill): void {
    this.detach(fill);
    this.reading.delete(fill);
  }

  private store(key: string, entry: Entry): void {
    const size = entry.body.byteLength;
    if (size > this.limits.maxBytes) return;
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    while (this.bytes + size > this.limits.maxBytes) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry];
      this.drop(oldestKey, oldest);
    }
    this.entries.set(key, entry);
    this.bytes += size;
  }

  private drop(key: string, entry: Entry): void {
    if (this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    this.bytes -= entry.body.byteLength;
  }
}
