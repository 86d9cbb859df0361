import { Injectable } from '@nestjs/common';
import type { Caller } from '../auth/caller.js';
import { canSeeJob } from '../auth/caller.js';
import { InvalidInputError, NotFoundError } from '../common/errors.js';
import { JobsRepository } from '../jobs/jobs.repository.js';
import { renderOutput } from './output-text.js';
import { RunOutputRepository, type OutputStream } from './run-output.repository.js';
import { RunsRepository, type RunRow } from './runs.repository.js';
import { runView, type RunView } from './runs.view.js';

export interface RunPage {
  items: RunView[];
  /** Pass as `cursor` to get the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** Reading runs and their output; visibility follows the run's job. */
@Injectable()
export class RunsService {
  constructor(
    private readonly runs: RunsRepository,
    private readonly output: RunOutputRepository,
    private readonly jobs: JobsRepository,
  ) {}

  async listForJob(caller: Caller, jobId: string, limit: number, cursor: string | null): Promise<RunPage> {
    const job = await this.jobs.findById(jobId);
    if (!job || !canSeeJob(caller, job)) throw new NotFoundError(`job "${jobId}" not found`);
    const rows = await this.runs.listForJob(jobId, limit + 1, cursor ? decodeCursor(cursor) : null);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map(runView), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async get(caller: Caller, runId: string): Promise<RunView> {
    return runView(await this.visible(caller, runId));
  }

  /** The run's stored output as text: head, a line saying how much was dropped, tail. */
  async outputText(caller: Caller, runId: string, stream?: OutputStream): Promise<string> {
    const run = await this.visible(caller, runId);
    return renderOutput(await this.output.read(runId, stream), run.outputDroppedBytes);
  }

  /** The run if the caller may see its job; 404 otherwise. */
  async visible(caller: Caller, runId: string): Promise<RunRow> {
    const run = UUID.test(runId) ? await this.runs.findById(runId) : null;
    const job = run ? await this.jobs.findById(run.jobId) : null;
    if (!run || !job || !canSeeJob(caller, job)) throw new NotFoundError(`run "${runId}" not found`);
    return run;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function encodeCursor(run: RunRow): string {
  return Buffer.from(`${run.queuedAt.toISOString()}|${run.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { queuedAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const queuedAt = new Date(at ?? '');
  if (Number.isNaN(queuedAt.getTime()) || !UUID.test(id ?? '')) {
    throw new InvalidInputError('cursor', 'not a cursor returned by a previous page');
  }
  return { queuedAt, id };
}
