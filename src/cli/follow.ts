import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunView } from '../runs/runs.view.js';
import type { ApiClient } from './api-client.js';
import { CliError, EXIT } from './cli-error.js';
import { humanDuration } from './output.js';

/** One server-sent event: its name and its parsed JSON data. */
interface StreamEvent {
  event: string;
  data: any;
}

/** How long to keep trying to reconnect a lost output stream (a daemon restart) before giving up. */
const RECONNECT_FOR_MS = 60_000;
const RECONNECT_PAUSE_MS = 1_000;

/**
 * Copies a run's output to this terminal as it is written — the child's stdout to stdout, its
 * stderr to stderr — until the run ends, and resolves with the finished run. A stream lost to a
 * daemon restart is reopened, skipping what was already printed.
 */
export async function followRun(client: ApiClient, runId: string, stream?: 'stdout' | 'stderr', signal?: AbortSignal): Promise<RunView> {
  const path = `/api/cron/runs/${encodeURIComponent(runId)}/output/stream${stream ? `?stream=${stream}` : ''}`;
  const progress = { printed: 0, lostAt: null as number | null };
  for (;;) {
    try {
      const run = await followOnce(client, path, progress, signal ?? new AbortController().signal);
      if (run) return run;
    } catch (error) {
      if (!(error instanceof CliError && error.exitCode === EXIT.unreachable) && !isLostConnection(error)) throw error;
    }
    signal?.throwIfAborted();
    progress.lostAt ??= Date.now();
    if (Date.now() - progress.lostAt > RECONNECT_FOR_MS) {
      throw new CliError(`lost the output stream of run ${runId} and could not reopen it for ${RECONNECT_FOR_MS / 1_000} s`, EXIT.unreachable);
    }
    await sleep(RECONNECT_PAUSE_MS, undefined, { signal });
  }
}

/** Reads one connection of the stream; the finished run, or null when it closed before the end. */
async function followOnce(client: ApiClient, path: string, progress: { printed: number; lostAt: number | null }, signal: AbortSignal): Promise<RunView | null> {
  const response = await client.stream(path, signal);
  progress.lostAt = null;
  // A reopened stream starts again from the first byte: skip what this terminal already has.
  let skip = progress.printed;
  for await (const { event, data } of readEvents(response)) {
    if (event === 'output') {
      const text = (data.text as string).slice(Math.min(skip, data.text.length));
      skip = Math.max(0, skip - data.text.length);
      progress.printed += write(data.stream, text);
    } else if (event === 'dropped') {
      process.stderr.write(`\n[cronwarden: ${data.message}]\n`);
    } else if (event === 'end') {
      return data as RunView;
    } else if (event === 'error') {
      throw new CliError(`the daemon stopped the output stream: ${data.message}`, EXIT.api);
    }
  }
  return null;
}

/**
 * The exit code a script sees for a finished run: 0 when it succeeded, the child's own code when it
 * exited with one, 128 + the signal number when a signal ended it (as a shell reports), else 1.
 */
export function exitCodeOf(run: RunView): number {
  if (run.status === 'succeeded') return 0;
  if (run.exitCode !== null && run.exitCode !== 0) return run.exitCode;
  const signalNumber = run.signal ? constants.signals[run.signal as NodeJS.Signals] : undefined;
  return signalNumber ? 128 + signalNumber : 1;
}

/** One line about how a run ended: `run <id> failed after 1.2s (exit code 3)`. */
export function describeEnd(run: RunView): string {
  const after = run.durationMs === null ? '' : ` after ${humanDuration(run.durationMs)}`;
  // With an exit code the run's error only says the same again ("exited with code 3").
  const details = run.exitCode !== null ? `exit code ${run.exitCode}` : [run.signal && `signal ${run.signal}`, run.error].filter(Boolean).join('; ');
  return `run ${run.id} ${run.status}${after}${details ? ` (${details})` : ''}`;
}

/** Writes a piece of child output to the matching stream of this process; returns its length. */
function write(stream: string, text: string): number {
  (stream === 'stderr' ? process.stderr : process.stdout).write(text);
  return text.length;
}

/** The events of a `text/event-stream` body, in order, until the server closes it. */
async function* readEvents(response: Response): AsyncGenerator<StreamEvent> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event) yield event;
    }
  }
}

function parseEvent(block: string): StreamEvent | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return data.length === 0 ? null : { event, data: JSON.parse(data.join('\n')) };
}

/** A body read that failed because the daemon went away mid-stream (undici: "terminated"). */
function isLostConnection(error: unknown): boolean {
  return error instanceof TypeError && /terminated|fetch failed|other side closed/i.test(error.message);
}
