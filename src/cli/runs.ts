import { Command, Option } from 'commander';
import type { RunView } from '../runs/runs.view.js';
import { addApiOptions, clientFor, type ApiClient, type ApiOptions } from './api-client.js';
import { CliError, EXIT } from './cli-error.js';
import { describeEnd, exitCodeOf, followRun } from './follow.js';
import { humanDuration, printDetails, printJson, printTable, relative, when } from './output.js';

type Env = NodeJS.ProcessEnv;
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'abandoned', 'skipped'];
const FINAL = STATUSES.slice(2);
const run = (id: string) => `/api/cron/runs/${encodeURIComponent(id)}`;

/** `cronwarden runs list|show|logs|cancel`. */
export function runsCommand(env: Env): Command {
  const runs = new Command('runs').description("look at runs and their output; cancel one");
  const sub = (name: string, description: string) => addApiOptions(runs.command(name).description(description));
  listCommand(sub('list', 'recent runs, newest first'), env);
  showCommand(sub('show', 'one run in full'), env);
  logsCommand(sub('logs', "a run's output; with --follow, until the run and its retries end"), env);
  cancelCommand(sub('cancel', 'stop a queued or running run (its process group gets SIGTERM, then SIGKILL)'), env);
  return runs;
}

function listCommand(command: Command, env: Env): void {
  command
    .option('--job <id>', 'only runs of this job')
    .option('--status <list>', `only these statuses, comma-separated: ${STATUSES.join(', ')}`)
    .option('--trigger <list>', 'only these triggers, comma-separated: schedule, manual, catchup, retry, chain')
    .option('--since <iso>', 'only runs queued at or after this time, e.g. 2026-01-01T00:00:00Z')
    .option('--limit <n>', 'at most this many (1-500)', '20')
    .action(async (options: ApiOptions & { job?: string; status?: string; trigger?: string; since?: string; limit: string }) => {
      const query = new URLSearchParams({ limit: options.limit });
      if (options.job) query.set('jobId', options.job);
      if (options.status) query.set('status', options.status);
      if (options.trigger) query.set('trigger', options.trigger);
      if (options.since) query.set('since', options.since);
      const page = await clientFor(options, env).request<{ items: RunView[]; nextCursor: string | null }>('GET', `/api/cron/runs?${query}`);
      if (options.json) return printJson(page.items);
      printTable(['ID', 'JOB', 'STATUS', 'TRIGGER', 'QUEUED', 'DURATION', 'EXIT'], page.items.map((item) => [
        item.id, item.jobId, item.status, item.trigger, relative(item.queuedAt),
        item.durationMs === null ? '-' : humanDuration(item.durationMs), item.exitCode !== null ? String(item.exitCode) : item.signal ?? '-',
      ]), '(no runs)');
    });
}

function showCommand(command: Command, env: Env): void {
  command.argument('<id>').action(async (id: string, options: ApiOptions) => {
    const item = await clientFor(options, env).request<RunView>('GET', run(id));
    if (options.json) return printJson(item);
    printDetails([
      ['id', item.id], ['job', item.jobId], ['status', item.status], ['trigger', `${item.trigger}${item.triggeredBy ? ` by ${item.triggeredBy}` : ''}`],
      ['attempt', String(item.attempt)], ['scheduled for', item.scheduledFor], ['queued', when(item.queuedAt)],
      ['started', when(item.startedAt)], ['finished', when(item.finishedAt)],
      ['duration', item.durationMs === null ? null : humanDuration(item.durationMs)],
      ['exit code', item.exitCode === null ? null : String(item.exitCode)], ['signal', item.signal], ['node', item.nodeId],
      ['params', JSON.stringify(item.params)],
      ['output', `${item.outputBytes} bytes${item.outputTruncated ? ` (${item.outputDroppedBytes} dropped: over the pipeline's maxOutputBytes)` : ''}`],
      ['error', item.error], ['retry of', item.parentRunId], ['cancelled by', item.cancelRequestedBy],
    ]);
  });
}

function logsCommand(command: Command, env: Env): void {
  command.argument('<id>')
    .addOption(new Option('--stream <name>', 'only stdout or only stderr').choices(['stdout', 'stderr']))
    .option('--tail <n>', 'only the last N lines (without --follow)')
    .option('-f, --follow', "keep printing new output until the run ends (and its retries, if it is retried), then exit with the last attempt's exit code")
    .action(async (id: string, options: ApiOptions & { stream?: 'stdout' | 'stderr'; tail?: string; follow?: boolean }) => {
      const client = clientFor(options, env);
      if (options.follow) {
        if (options.tail) throw new CliError('--tail does not go with --follow', EXIT.usage);
        return followToExit(client, id, { stream: options.stream, json: options.json });
      }
      const query = new URLSearchParams();
      if (options.stream) query.set('stream', options.stream);
      if (options.tail) query.set('tail', options.tail);
      process.stdout.write(await client.text(`${run(id)}/output${query.size ? `?${query}` : ''}`));
    });
}

function cancelCommand(command: Command, env: Env): void {
  command.argument('<id>')
    .option('--reason <text>', 'why; recorded with the run')
    .action(async (id: string, options: ApiOptions & { reason?: string }) => {
      const client = clientFor(options, env);
      const item = await client.request<RunView>('POST', `${run(id)}/cancel`, options.reason ? { reason: options.reason } : {});
      if (options.json) return printJson(item);
      const settled = FINAL.includes(item.status);
      process.stdout.write(settled ? `run ${item.id} ${item.status}\n` : `cancelling run ${item.id}; it is being stopped\n`);
    });
}

/**
 * Streams a run's output until it ends, and the output of its retries after it (a retry is queued
 * with the failure it retries, so the run's own record names it); prints how each ended on stderr
 * (and the last run as JSON on stdout with `json`), and sets the process's exit code to the last
 * attempt's. Ctrl-C stops following, not the run.
 */
export async function followToExit(client: ApiClient, runId: string, options: { stream?: 'stdout' | 'stderr'; json?: boolean; announce?: string }): Promise<void> {
  if (options.announce) process.stderr.write(`${options.announce}\n`);
  const abort = new AbortController();
  let following = runId;
  const interrupt = () => abort.abort(new CliError(`stopped following; run ${following} goes on (cancel it with: cronwarden runs cancel ${following})`, 130));
  process.once('SIGINT', interrupt);
  try {
    let finished = await followRun(client, following, options.stream, abort.signal);
    for (let retry = await retryOf(client, finished); retry; retry = await retryOf(client, finished)) {
      process.stderr.write(`${describeEnd(finished)}; retry ${retry} (attempt ${finished.attempt + 1}) queued, following it\n`);
      following = retry;
      finished = await followRun(client, following, options.stream, abort.signal);
    }
    if (options.json) printJson(finished);
    else process.stderr.write(`${describeEnd(finished)}\n`);
    process.exitCode = exitCodeOf(finished);
  } catch (error) {
    throw abort.signal.aborted ? abort.signal.reason : error;
  } finally {
    process.off('SIGINT', interrupt);
  }
}

/** The retry queued after a run that ended, or null (a success is never retried). */
async function retryOf(client: ApiClient, ended: RunView): Promise<string | null> {
  if (ended.status === 'succeeded' || ended.status === 'skipped') return null;
  const detail = await client.request<RunView & { retryRunId?: string | null }>('GET', run(ended.id));
  return detail.retryRunId ?? null;
}

/** `succeeded in 1.2s, 3m ago`: a run's outcome in a few words. */
export function runSummary(item: RunView): string {
  const ended = item.finishedAt ?? item.startedAt ?? item.queuedAt;
  return `${item.status}${item.durationMs === null ? '' : ` in ${humanDuration(item.durationMs)}`}, ${relative(ended)}`;
}
