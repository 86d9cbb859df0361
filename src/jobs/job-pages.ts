import { Injectable } from '@nestjs/common';
import type { Caller } from '../auth/caller.js';
import { Clock } from '../common/clock.js';
import { cutPage } from '../common/page.js';
import { PreparedJson } from '../common/prepared-json.js';
import { decodeKeyCursor, encodeKeyCursor } from '../runs/page-cursor.js';
import { RunsRepository } from '../runs/runs.repository.js';
import { JobListCache, type ComputedPage } from './job-list-cache.js';
import { JOB_ID } from './jobs.dto.js';
import { JobsRepository, type JobFilter, type JobRow } from './jobs.repository.js';
import type { JobListFilter } from './jobs.service.js';
import { timedJobView, type JobPage, type JobView } from './jobs.view.js';

/** Jobs as the API lists them: views of rows with their latest runs, and pages of them through `JobListCache`. */
@Injectable()
export class JobPages {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly runs: RunsRepository,
    private readonly clock: Clock,
    private readonly cache: JobListCache,
  ) {}

  /**
   * One page of the jobs the caller may see, serialised (a `JobPage`): up to `limit` jobs after the
   * cursor's, and the cursor for the next page. Served from the cache, which any write to a job of
   * the page or to its runs empties first.
   */
  async listPage(caller: Caller, filter: JobListFilter, limit: number, cursor: string | null): Promise<PreparedJson> {
    const after = cursor === null ? null : decodeKeyCursor(cursor, JOB_ID);
    const visibleTo = caller.isAdmin ? null : caller.sub;
    const key = JSON.stringify([visibleTo, filter.owner ?? null, filter.paused ?? null, filter.pipeline ?? null, after, limit]);
    return this.cache.page(key, after ?? '', () => this.readPage({ visibleTo, ...filter }, after, limit));
  }

  /** The views of the rows, and the instant the first of them changes with time alone. */
  async views(rows: JobRow[]): Promise<{ views: JobView[]; until: number }> {
    const ids = rows.map((row) => row.id);
    const [lastRuns, freshness] = [await this.runs.lastRuns(ids), await this.runs.freshness(ids)];
    const now = new Date(this.clock.now());
    let until = Number.POSITIVE_INFINITY;
    const views = rows.map((row) => {
      const timed = timedJobView(row, lastRuns.get(row.id) ?? null, now, freshness.get(row.id));
      until = Math.min(until, timed.until);
      return timed.view;
    });
    return { views, until };
  }

  /** Reads one page from the database, for the cache: its JSON, the last id read, and how long it holds. */
  private async readPage(filter: JobFilter, after: string | null, limit: number): Promise<ComputedPage> {
    const rows = await this.jobs.list(filter, { after, limit: limit + 1 });
    const { items, nextCursor } = cutPage(rows, limit, (last) => encodeKeyCursor(last.id));
    const { views, until } = await this.views(items);
    const page: JobPage = { items: views, nextCursor };
    return { body: await PreparedJson.of(page), upper: rows.length > limit ? rows[rows.length - 1].id : null, validUntil: until };
  }
}
