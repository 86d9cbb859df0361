import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Caller } from '../auth/caller.js';
import { FINAL_STATUSES } from './run.entity.js';
import { LiveOutputs } from './live-output.js';
import { OutputFollower, type FollowedPiece } from './output-follower.js';
import { ProgressTracker } from './progress.js';
import { RunHistoryRepository } from './run-history.repository.js';
import type { OutputStream } from './run-output.repository.js';
import { RunsRepository, type RunRow } from './runs.repository.js';
import { RunsService } from './runs.service.js';
import { runView } from './runs.view.js';

/** How often a live stream looks for new output: in memory on the node running the run, else in the table (any node). */
export const STREAM_POLL_MS = 250;
/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
/** Consecutive failed polls (database away) after which a stream gives up with an `error` event. */
const MAX_FAILED_POLLS = 40;

/**
 * GET /api/cron/runs/:id/output/stream as server-sent events: `run` (the run, again whenever its
 * status changes), `output` ({stream, text}) for what is stored so far and then for each new
 * chunk, `progress` ({progress, note}) for each `::progress` line of stdout, `dropped` where
 * output exceeded the cap, and finally `end` with the finished run.
 */
@Injectable()
export class OutputStreamService implements OnModuleDestroy {
  private readonly logger = new Logger(OutputStreamService.name);
  private readonly open = new Set<ServerResponse>();

  constructor(
    private readonly runsService: RunsService,
    private readonly runs: RunsRepository,
    private readonly history: RunHistoryRepository,
    private readonly live: LiveOutputs,
  ) {}

  /** Checks access (a 404 is still a normal HTTP error), then streams until the run ends or the client leaves. */
  async follow(caller: Caller, runId: string, stream: OutputStream | undefined, reply: FastifyReply): Promise<void> {
    const { run } = await this.runsService.visible(caller, runId);
    // The stream is written to the socket as it comes, past Fastify's reply (which sends one body),
    // with the headers set on the reply so far (the rate limit's; helmet's are on the socket's already).
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      ...(reply.getHeaders() as OutgoingHttpHeaders),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    this.open.add(response);
    response.on('close', () => this.open.delete(response));
    try {
      await this.pump(run, stream, response);
    } finally {
      this.open.delete(response);
      response.end();
    }
  }

  /** Ends open streams so that the HTTP server can close. */
  onModuleDestroy(): void {
    for (const response of this.open) response.end();
    this.open.clear();
  }

  private async pump(first: RunRow, stream: OutputStream | undefined, response: ServerResponse): Promise<void> {
    const follower = new OutputFollower();
    const progress = new ProgressTracker();
    const live = () => this.open.has(response) && !response.writableEnded;
    let status = first.status;
    let failures = 0;
    let lastWrite = Date.now();
    const send = (event: string, data: unknown) => {
      response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      lastWrite = Date.now();
    };
    send('run', runView(first));
    while (live()) {
      try {
        // Status first: when it is final, the output read after it is complete (flushed before the finish).
        const run = await this.runs.findById(first.id);
        const final = run === null || FINAL_STATUSES.includes(run.status);
        // Memory holds more than the table while this node runs it (the tail is stored every few seconds); seqs are the same in both.
        const pieces = follower.take(this.live.from(first.id, follower.cursor) ?? await this.history.outputFrom(first.id, follower.cursor));
        if (!live()) return;
        this.emit(final ? [...pieces, ...follower.finish()] : pieces, stream, progress, send);
        if (run && run.status !== status && !final) send('run', runView(run));
        status = run?.status ?? status;
        if (final) return send('end', run ? runView(run) : { id: first.id, status: 'deleted' });
        failures = 0;
      } catch (error) {
        if (++failures >= MAX_FAILED_POLLS) return send('error', { message: 'the database is not answering; reconnect later' });
        this.logger.warn(`output stream of run ${first.id}: ${(error as Error).message}`);
      }
      if (Date.now() - lastWrite >= KEEPALIVE_MS) response.write(': keepalive\n\n');
      await this.pause(response);
    }
  }

  private emit(pieces: FollowedPiece[], stream: OutputStream | undefined, progress: ProgressTracker, send: (event: string, data: unknown) => void): void {
    for (const piece of pieces) {
      if (piece.kind === 'dropped') {
        send('dropped', { message: 'output was dropped here: the run wrote more than its pipeline keeps (maxOutputBytes)' });
        continue;
      }
      if (stream === undefined || piece.stream === stream) send('output', { stream: piece.stream, text: piece.text });
      if (piece.stream === 'stdout') for (const change of progress.write(piece.text)) send('progress', change);
    }
  }

  /** Waits one poll interval, or less if the client leaves. */
  private pause(response: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, STREAM_POLL_MS);
      function done() {
        clearTimeout(timer);
        response.off('close', done);
        resolve();
      }
      response.once('close', done);
    });
  }
}
