import { Command, Option } from 'commander';
import type { JobView } from '../jobs/jobs.view.js';
import type { RunView } from '../runs/runs.view.js';
import { addApiOptions, clientFor, type ApiClient, type ApiOptions } from './api-client.js';
import { CliError, EXIT } from './cli-error.js';
import { clip, printDetails, printJson, printTable, relative, when } from './output.js';
import { followToExit, runSummary } from './runs.js';

type Env = NodeJS.ProcessEnv;
const job = (id: string) => `/api/cron/jobs/${encodeURIComponent(id)}`;

/** `cronwarden jobs list|show|create|pause|resume|trigger|delete`. */
export function jobsCommand(env: Env): Command {
  const jobs = new Command('jobs').description('list and control the jobs of a running daemon');
  const sub = (name: string, description: string) => addApiOptions(jobs.command(name).description(description));
  listCommand(sub('list', 'the jobs you may see, with their next and last run'), env);
  sub('show', 'one job in full').argument('<id>').action(async (id: string, options: ApiOptions) => {
    show(await clientFor(options, env).request<JobView>('GET', job(id)), options);
  });
  createCommand(sub('create', 'create a job that runs a pipeline from the config'), env);
  controlCommands(sub, env);
  triggerCommand(sub('trigger', "queue a run now; with --follow, stream its output (and its retries') and exit with the last attempt's exit code"), env);
  return jobs;
}

function listCommand(command: Command, env: Env): void {
  command
    .option('--owner <sub>', 'only jobs owned by this caller')
    .option('--pipeline <id>', 'only jobs running this pipeline')
    .addOption(new Option('--paused', 'only paused jobs').conflicts('active'))
    .option('--active', 'only jobs that are not paused')
    .option('--limit <n>', 'one page of at most this many (1-500), in id order; without it, every job')
    .option('--cursor <cursor>', 'the page after the one that printed this cursor')
    .action(async (options: ApiOptions & { owner?: string; pipeline?: string; paused?: boolean; active?: boolean; limit?: string; cursor?: string }) => {
      const query = new URLSearchParams();
      if (options.owner) query.set('owner', options.owner);
      if (options.pipeline) query.set('pipeline', options.pipeline);
      if (options.paused || options.active) query.set('paused', String(Boolean(options.paused)));
      if (options.limit) query.set('limit', options.limit);
      if (options.cursor) query.set('cursor', options.cursor);
      const list = await listJobs(clientFor(options, env), query);
      if (options.json) return printJson(list);
      printTable(['ID', 'NAME', 'SCHEDULE', 'NEXT RUN', 'LAST RUN', 'PAUSED'], list.map((item) => [
        item.id, clip(item.name, 40), schedule(item), relative(item.nextRunAt), item.lastRun ? runSummary(item.lastRun) : '-', paused(item),
      ]), '(no jobs)');
    });
}

/** The jobs (a page with --limit or --cursor, then a line on stderr says how to get the next one). */
async function listJobs(client: ApiClient, query: URLSearchParams): Promise<JobView[]> {
  if (!query.has('limit') && !query.has('cursor')) return client.request<JobView[]>('GET', `/api/cron/jobs${query.size ? `?${query}` : ''}`);
  const page = await client.request<{ items: JobView[]; nextCursor: string | null }>('GET', `/api/cron/jobs?${query}`);
  if (page.nextCursor) process.stderr.write(`more jobs: repeat with --cursor ${page.nextCursor}\n`);
  return page.items;
}

/** pause, resume and delete: one call each, one line of output. */
function controlCommands(sub: (name: string, description: string) => Command, env: Env): void {
  sub('pause', 'stop firing a job until it is resumed').argument('<id>').option('--note <text>', 'why; shown with the job')
    .action(async (id: string, options: ApiOptions & { note?: string }) => {
      const paused = await clientFor(options, env).request<JobView>('POST', `${job(id)}/pause`, options.note ? { note: options.note } : {});
      done(options, paused, `paused job ${paused.id}${paused.pauseNote ? `: ${paused.pauseNote}` : ''}`);
    });
  sub('resume', 'fire a paused job again').argument('<id>').action(async (id: string, options: ApiOptions) => {
    const resumed = await clientFor(options, env).request<JobView>('POST', `${job(id)}/resume`, {});
    done(options, resumed, `resumed job ${resumed.id}; next run ${relative(resumed.nextRunAt)}`);
  });
  sub('delete', 'remove a job made through the API; its active runs are cancelled, its history kept').argument('<id>')
    .action(async (id: string, options: ApiOptions) => {
      await clientFor(options, env).request<null>('DELETE', job(id));
      done(options, { id, deleted: true }, `deleted job ${id}`);
    });
}

function triggerCommand(command: Command, env: Env): void {
  command.argument('<id>')
    .option('--params <json>', "params for this run, merged over the job's (a JSON object)")
    .option('-f, --follow', "stream the run's output here until it ends (and its retries, if it is retried), then exit with the last attempt's exit code")
    .action(async (id: string, options: ApiOptions & { params?: string; follow?: boolean }) => {
      const client = clientFor(options, env);
      const body = options.params === undefined ? {} : { params: jsonObject('--params', options.params) };
      const run = await client.request<RunView>('POST', `${job(id)}/trigger`, body);
      if (options.follow) return followToExit(client, run.id, { announce: `run ${run.id} of job ${run.jobId} queued`, json: options.json });
      done(options, run, `queued run ${run.id} of job ${run.jobId}`);
    });
}

function createCommand(command: Command, env: Env): void {
  command
    .requiredOption('--pipeline <id>', 'the pipeline to run (one defined in the config file)')
    .option('--id <id>', 'a slug such as nightly-report (generated when absent)')
    .option('--name <text>', 'display name (default: the id)')
    .option('--cron <expr>', 'cron expression, 5 or 6 fields, e.g. "0 3 * * *"')
    .option('--every <duration>', 'interval such as 30m or 5h, instead of --cron')
    .option('--timezone <tz>', 'IANA time zone for --cron, e.g. Europe/Berlin (default UTC)')
    .option('--params <json>', 'JSON object handed to each run as JOB_INPUT')
    .addOption(new Option('--overlap <policy>', 'when a run is still going at the next time').choices(['skip', 'queue', 'allow', 'replace']))
    .addOption(new Option('--catchup <policy>', 'times missed while no daemon ran').choices(['skip', 'once', 'all']))
    .option('--catchup-window <duration>', 'how far back missed times are caught up')
    .option('--jitter <duration>', 'random delay up to this after each time')
    .option('--owner <sub>', 'owner of the job (admins only; default: you)')
    .option('--paused', 'create it paused')
    .action(async (options: ApiOptions & Record<string, string | boolean | undefined>) => {
      if (!options.cron === !options.every) throw new CliError('give exactly one of --cron and --every', EXIT.usage);
      const body: Record<string, unknown> = {};
      for (const key of ['id', 'name', 'pipeline', 'cron', 'every', 'timezone', 'overlap', 'catchup', 'catchupWindow', 'jitter', 'owner']) {
        if (options[key] !== undefined) body[key] = options[key];
      }
      if (typeof options.params === 'string') body.params = jsonObject('--params', options.params);
      const client = clientFor(options, env);
      let created = await client.request<JobView>('POST', '/api/cron/jobs', body);
      if (options.paused) created = await client.request<JobView>('POST', `${job(created.id)}/pause`, {});
      if (options.json) return printJson(created);
      process.stdout.write(`created job ${created.id}\n`);
      show(created, options);
    });
}

function show(item: JobView, options: ApiOptions): void {
  if (options.json) return printJson(item);
  printDetails([
    ['id', item.id], ['name', item.name], ['pipeline', item.pipeline], ['schedule', schedule(item)],
    ['overlap', item.overlap], ['catchup', `${item.catchup} (window ${item.catchupWindow})`], ['jitter', item.jitter === '0ms' ? null : item.jitter],
    ['params', JSON.stringify(item.params)], ['owner', `${item.owner} (${item.source})`],
    ['paused', item.paused ? `yes, by ${item.pausedBy ?? '?'} ${relative(item.pausedAt)}${item.pauseNote ? `: ${item.pauseNote}` : ''}` : 'no'],
    ['next run', when(item.nextRunAt) ?? '-'], ['last run', item.lastRun ? `${item.lastRun.id} ${runSummary(item.lastRun)}` : '-'],
    ['created', item.createdAt], ['updated', item.updatedAt],
  ]);
}

function done(options: ApiOptions, value: unknown, message: string): void {
  if (options.json) printJson(value);
  else process.stdout.write(`${message}\n`);
}

function schedule(item: JobView): string {
  if (item.every) return `every ${item.every}`;
  return item.timezone === 'UTC' ? `cron ${item.cron}` : `cron ${item.cron} ${item.timezone}`;
}

function paused(item: JobView): string {
  return item.paused ? `yes${item.pauseNote ? ` (${clip(item.pauseNote, 30)})` : ''}` : 'no';
}

/** Parses a JSON-object flag, or fails with a usage error naming it. */
export function jsonObject(flag: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${flag} must be a JSON object: ${(error as Error).message}`, EXIT.usage);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CliError(`${flag} must be a JSON object such as '{"day":"monday"}'`, EXIT.usage);
  return value as Record<string, unknown>;
}
