/**
 * Loads the daemon's configuration once at start: the YAML file for pipelines, jobs and daemon
 * settings, the environment for secrets and deployment facts. Every problem is collected with its
 * key path and reported together, so an operator fixes the file in one go.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { readEnv } from './config.env.js';
import { readJob } from './config.jobs.js';
import { readPipeline } from './config.pipelines.js';
import { duration, integer, Section } from './config.section.js';
import type { CronwardenConfig, DaemonConfig, JobConfig, PipelineConfig } from './config.types.js';
import { formatDuration } from './durations.js';

/** Exit code for a bad configuration (`EX_CONFIG` from sysexits.h); systemd and operators know it. */
export const CONFIG_EXIT_CODE = 78;

/** One thing wrong with the configuration: where (`jobs.nightly.cron`, `env.JWT_SECRET`) and why. */
export interface ConfigProblem {
  /** Key path in the file, `env.<NAME>` for the environment, or `''` for the file as a whole. */
  path: string;
  message: string;
}

/** The configuration cannot be used; `message` has one `<file>: <key path>: <reason>` line per problem. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(problems.map(({ path, message }) => (path ? `${file}: ${path}: ${message}` : `${file}: ${message}`)).join('\n'));
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** The config file; relative to `cwd`. */
  file: string;
  env: NodeJS.ProcessEnv;
  /** Where relative paths (the file, pipeline `cwd`, the data dir) start from; default `process.cwd()`. */
  cwd?: string;
}

const ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The config file to load: `CRONWARDEN_CONFIG` if set, else `<cwd>/config/cronwarden.yaml`; absolute. */
export function resolveConfigPath(env: NodeJS.ProcessEnv, cwd: string): string {
  const named = env.CRONWARDEN_CONFIG?.trim();
  return resolve(cwd, named ? named : 'config/cronwarden.yaml');
}

/**
 * Reads, validates and fills in defaults for the whole configuration.
 * @throws ConfigError listing every problem found in the file and the environment.
 */
export function loadConfig(options: LoadConfigOptions): CronwardenConfig {
  const cwd = resolve(options.cwd ?? process.cwd());
  const file = resolve(cwd, options.file);
  const problems: ConfigProblem[] = [];
  const root = Section.of(readDocument(file, problems), '', problems);
  root.allowOnly(['daemon', 'pipelines', 'jobs']);
  const daemon = readDaemon(root.section('daemon'));
  const pipelines = readEntries(root.section('pipelines'), 'pipeline', (section, id) => readPipeline(section, id, cwd));
  const jobs = readEntries(root.section('jobs'), 'job', (section, id) => readJob(section, id, pipelines));
  checkChains(jobs, problems);
  const env = readEnv(options.env, cwd, problems);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return { file, daemon, pipelines, jobs, env };
}

/** `rateLimit: { requests, per }`: API requests per client address in each window; 50/s sustained by default. */
function readRateLimit(section: Section): DaemonConfig['rateLimit'] {
  section.allowOnly(['requests', 'per']);
  return { limit: section.read('requests', 3_000, integer(1, 10_000_000)), windowMs: section.read('per', 60_000, duration(1_000)) };
}

/** onSuccess/onFailure must name jobs of the same file. */
function checkChains(jobs: Map<string, JobConfig>, problems: ConfigProblem[]): void {
  for (const job of jobs.values()) {
    for (const key of ['onSuccess', 'onFailure'] as const) {
      const unknown = job[key].filter((id) => !jobs.has(id));
      if (unknown.length > 0) problems.push({ path: `jobs.${job.id}.${key}`, message: `${unknown.map((id) => `"${id}"`).join(', ')} is not a job defined under jobs` });
    }
  }
}

/** The file's YAML as plain values; a missing file or a syntax error is one problem, and `undefined`. */
function readDocument(file: string, problems: ConfigProblem[]): unknown {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'config file not found (CRONWARDEN_CONFIG names another one)' : `cannot read the config file: ${(error as Error).message}`;
    problems.push({ path: '', message });
    return undefined;
  }
  const lineCounter = new LineCounter();
  // `merge` lets operators share settings between pipelines with YAML anchors and `<<: *defaults`.
  const document = parseDocument(source, { lineCounter, prettyErrors: false, merge: true });
  // Only the first syntax error: the ones after it are usually the parser losing its footing.
  const [error] = document.errors;
  if (error) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    problems.push({ path: '', message: `YAML syntax error at line ${line}, column ${col}: ${error.message}` });
    return undefined;
  }
  try {
    return document.toJS();
  } catch (error) {
    problems.push({ path: '', message: `cannot read the YAML: ${(error as Error).message}` });
    return undefined;
  }
}

function readDaemon(section: Section): DaemonConfig {
  section.allowOnly(['maxConcurrentRuns', 'shutdownGrace', 'nodeTimeout', 'heartbeatInterval', 'pollInterval', 'queueTimeout', 'maxClockSkew', 'keepRuns', 'keepOutputFor', 'rateLimit']);
  const daemon: DaemonConfig = {
    maxConcurrentRuns: section.read('maxConcurrentRuns', 4, integer(1, 1000)),
    shutdownGraceMs: section.read('shutdownGrace', 30_000, duration()),
    nodeTimeoutMs: section.read('nodeTimeout', 30_000, duration(1_000)),
    heartbeatIntervalMs: section.read('heartbeatInterval', 5_000, duration(100)),
    pollIntervalMs: section.read('pollInterval', 1_000, duration(50)),
    queueTimeoutMs: section.read('queueTimeout', 3_600_000, duration(1_000)),
    maxClockSkewMs: section.read('maxClockSkew', 2_000, duration(100)),
    keepRuns: section.read('keepRuns', 1_000, integer(1, 10_000_000)),
    keepOutputForMs: section.read('keepOutputFor', 30 * 24 * 3_600_000, duration(60_000)),
    rateLimit: readRateLimit(section.section('rateLimit')),
  };
  // Other nodes declare a node dead after nodeTimeout without a heartbeat: one late beat must not do it.
  if (daemon.nodeTimeoutMs < 2 * daemon.heartbeatIntervalMs) {
    const [timeout, beat] = [formatDuration(daemon.nodeTimeoutMs), formatDuration(daemon.heartbeatIntervalMs)];
    section.report('nodeTimeout', `${timeout} must be at least twice heartbeatInterval (${beat}), or a live node can be declared dead`);
  }
  return daemon;
}

/** Reads each `<id>: {...}` entry of `pipelines` or `jobs`, checking the id, in file order. */
function readEntries<T extends PipelineConfig | JobConfig>(
  section: Section,
  kind: string,
  read: (entry: Section, id: string) => T,
): Map<string, T> {
  const entries = new Map<string, T>();
  for (const id of Object.keys(section.values)) {
    if (!ID.test(id)) {
      section.report(id, `${kind} id must be 1-63 lowercase letters, digits, _ or -, starting with a letter or digit`);
    }
    entries.set(id, read(section.section(id), id));
  }
  return entries;
}
