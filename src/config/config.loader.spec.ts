import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, resolveConfigPath, type ConfigProblem } from './config.loader.js';

const SHIPPED = fileURLToPath(new URL('../../config/cronwarden.yaml', import.meta.url));
const ENV = { JWT_SECRET: 'a-test-secret-that-is-long-enough-0123' };
const PIPELINE = 'pipelines:\n  main:\n    command: ["node", "main.mjs"]\n';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cronwarden-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `yaml` to a temp file and loads it with `env`. */
function load(yaml: string, env: NodeJS.ProcessEnv = ENV) {
  const file = join(dir, 'cronwarden.yaml');
  writeFileSync(file, yaml);
  return loadConfig({ file, env, cwd: dir });
}

/** The ConfigError loading `yaml` throws; fails the test if it loads. */
function errorOf(yaml: string, env: NodeJS.ProcessEnv = ENV): ConfigError {
  try {
    load(yaml, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the config loaded');
}

function expectProblem(error: ConfigError, path: string, message: string | RegExp): void {
  const atPath = error.problems.filter((problem: ConfigProblem) => problem.path === path);
  const matcher = typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message);
  expect(atPath.map((problem) => problem.message)).toContainEqual(matcher);
  expect(error.message).toContain(`${join(dir, 'cronwarden.yaml')}: ${path ? `${path}: ` : ''}`);
}

describe('loadConfig', () => {
  it('loads the shipped config with its job every 5 hours and the defaults filled in', () => {
    const config = loadConfig({ file: SHIPPED, env: ENV, cwd: dir });
    expect(config.file).toBe(SHIPPED);
    expect(config.daemon).toEqual({ maxConcurrentRuns: 4, shutdownGraceMs: 30_000, nodeTimeoutMs: 30_000, heartbeatIntervalMs: 5_000, pollIntervalMs: 1_000, queueTimeoutMs: 3_600_000, maxClockSkewMs: 2_000, keepRuns: 1_000, keepOutputForMs: 30 * 24 * 3_600_000, rateLimit: { limit: 3_000, windowMs: 60_000 } });
    expect(config.pipelines.get('main')).toEqual({
      id: 'main', command: ['node', 'examples/pipelines/main.mjs'], shell: false, cwd: dir, env: {}, passEnv: [],
      timeoutMs: 4 * 3_600_000, killGraceMs: 30_000, maxOutputBytes: 10 * 1024 * 1024, retries: { max: 0, backoffMs: 30_000, factor: 2 }, notify: [], requeueOnShutdown: false,
    });
    expect(config.jobs.get('main_pipeline_v2')).toEqual({
      id: 'main_pipeline_v2', name: 'Main Video Pipeline (main_v2)', pipeline: 'main', cron: null, everyMs: 5 * 3_600_000,
      timezone: 'UTC', params: {}, overlap: 'skip', catchup: 'once', catchupWindowMs: 6 * 3_600_000, jitterMs: 0, paused: false, notify: [], expectSuccessWithinMs: null, retries: null, onSuccess: [], onFailure: [], keepRuns: null, keepOutputForMs: null,
    });
  });

  it('fills job defaults and keeps a cron job with its time zone', () => {
    const config = load(`${PIPELINE}jobs:\n  nightly:\n    pipeline: main\n    cron: "30 2 * * *"\n    timezone: Europe/Berlin\n`);
    expect(config.jobs.get('nightly')).toMatchObject({ name: 'nightly', cron: '30 2 * * *', everyMs: null, timezone: 'Europe/Berlin' });
  });

  it('reads an empty file as no pipelines and no jobs', () => {
    const config = load('');
    expect(config.pipelines.size).toBe(0);
    expect(config.jobs.size).toBe(0);
  });

  it('resolves a pipeline cwd against the cwd option, and reads retries given as a number', () => {
    mkdirSync(join(dir, 'work'));
    const config = load(`${PIPELINE}    cwd: work\n    retries: 3\n    env: { MODE: "fast" }\n    passEnv: [HOME]\n`);
    expect(config.pipelines.get('main')).toMatchObject({
      cwd: join(dir, 'work'), env: { MODE: 'fast' }, passEnv: ['HOME'], retries: { max: 3, backoffMs: 30_000, factor: 2 },
    });
  });

  it.each<[string, string, string, string | RegExp]>([
    ['an unknown top-level key', `schedules: {}\n${PIPELINE}`, 'schedules', 'unknown key; expected one of: daemon, pipelines, jobs'],
    ['an unknown key in a pipeline', `${PIPELINE}    timout: 4h\n`, 'pipelines.main.timout', 'unknown key'],
    ['an unknown key in a job', `${PIPELINE}jobs:\n  j:\n    pipeline: main\n    every: 5h\n    overlapp: skip\n`, 'jobs.j.overlapp', 'unknown key'],
    ['an unknown key in daemon', 'daemon:\n  maxConcurrent: 2\n', 'daemon.maxConcurrent', 'unknown key'],
    ['a bad cron expression', `${PIPELINE}jobs:\n  j:\n    pipeline: main\n    cron: "61 * * * *"\n`, 'jobs.j.cron', /invalid cron expression "61 \* \* \* \*": .*minute/],
    ['a cron expression with a year field', `${PIPELINE}jobs:\n  j:\n    pipeline: main\n    cron: "0 0 0 1 1 * 2030"\n`, 'jobs.j.cron', /invalid cron expression "0 0 0 1 1 \* 2030": it has 7 fields; write 5 .* or 6/],
    ['a cron expression that never fires', `${PIPELINE}jobs:\n  j:\n    pipeline: main\n    cron: "0 0 31 2 *"\n`, 'jobs.j.cron', 'cron expression "0 0 31 2 *" never matches any date'],
    ['a bad time zone', `${PIPELINE}jobs:\n  j:\n    pipeline: main\n    cron: "0 3 * * *"\n    timezone: Mars/Olympus\n`, 'jobs.j.timezone', 'unknown time zone "Mars/Olympus": use an IANA name such as "Europe/Berlin" or "UTC"'],
    ['a job naming an unknown pipeline', `${PIPELINE}jobs:\n  j:\n    pipeline: mian\n    every: 1h\n`, 'jobs.j.pipeline', '"mian" is not a pipeline defined under pipelines (defined: main)'],
    ['a job without a pipeline', `${PIPELINE}jobs:\n  j:\n    every: 1h\n`, 'jobs.j.pipeline', 'is required'],
    ['a malformed duration', `${PIPELINE}    timeout: 4 hours\n`, 'pipelines.main.timeout', '"4 hours" is not a duration'],
    ['a duration without a unit', `${PIPELINE}    killGrace: 30\n`, 'pipelines.main.killGrace', '30 has no unit'],
    ['an interval under a second', `${PIPELINE}jobs:\n  j:\n    pipeline: main\n    every: 500ms\n`, 'jobs.j.every', '"500ms" is shorter than the minimum of 1s'],
    ['a malformed size', `${PIPELINE}    maxOutputBytes: 10 megs\n`, 'pipelines.main.maxOutputBytes', '"10 megs" is not a size'],
    ['a size out of range', `${PIPELINE}    maxOutputBytes: 2GiB\n`, 'pipelines.main.maxOutputBytes', '"2GiB" is outside the allowed range 1KiB to 1GiB'],
    ['both cron and every', `${PIPELINE}jobs:\n  j:\n    pipeline: main\n    cron: "0 3 * * *"\n    every: 5h\n`, 'jobs.j', 'has both cron and every'],
    ['neither cron nor every', `${PIPELINE}jobs:\n  j:\n    pipeline: main\n`, 'jobs.j', 'needs a schedule'],
    ['a bad policy', `${PIPELINE}jobs:\n  j:\n    pipeline: main\n    every: 1h\n    overlap: wait\n`, 'jobs.j.overlap', 'must be one of skip, queue, allow, replace, not "wait"'],
    ['a bad id', 'pipelines:\n  Main:\n    command: [x]\n', 'pipelines.Main', 'pipeline id must be 1-63 lowercase letters'],
    ['a command given as a string', 'pipelines:\n  main:\n    command: node main.mjs\n', 'pipelines.main.command', 'must be a list'],
    ['a shell command of several items', 'pipelines:\n  main:\n    shell: true\n    command: [echo, hi]\n', 'pipelines.main.command', 'with shell: true must be one item'],
    ['a number as an env value', `${PIPELINE}    env:\n      DEBUG: 1\n`, 'pipelines.main.env.DEBUG', 'must be a string, not 1; quote it'],
    ['a reserved env name', `${PIPELINE}    env:\n      CRONWARDEN_RUN_ID: x\n`, 'pipelines.main.env.CRONWARDEN_RUN_ID', 'is reserved'],
    ['a cwd that does not exist', `${PIPELINE}    cwd: nowhere\n`, 'pipelines.main.cwd', /^"nowhere": no directory \/.*\/nowhere$/],
    ['a webhook that is not http(s)', `${PIPELINE}    notify: [{ url: "ftp://x/y" }]\n`, 'pipelines.main.notify', 'item 1: url must be http or https, not ftp:'],
    ['a webhook event that does not exist', `${PIPELINE}jobs:\n  j:\n    pipeline: main\n    every: 1h\n    notify: [{ url: "https://x/y", on: [exploded] }]\n`, 'jobs.j.notify', 'item 1: on: "exploded" is not one of failed, timed_out, abandoned, cancelled, succeeded, recovered, late'],
    ['a chain to a job that does not exist', `${PIPELINE}jobs:\n  j:\n    pipeline: main\n    every: 1h\n    onSuccess: [nope]\n`, 'jobs.j.onSuccess', '"nope" is not a job defined under jobs'],
    ['a node timeout shorter than two heartbeats', 'daemon:\n  heartbeatInterval: 20s\n', 'daemon.nodeTimeout', '30s must be at least twice heartbeatInterval (20s)'],
    ['a top level that is not a mapping', '- main\n', '', 'must be a mapping'],
  ])('reports %s at its key path', (_, yaml, path, message) => {
    expectProblem(errorOf(yaml), path, message);
  });

  it('reports a YAML syntax error as one problem with its line and column', () => {
    const error = errorOf('pipelines:\n  main:\n    command: ["node", "main.mjs"\n    timeout: 4h\n');
    expect(error.problems).toHaveLength(1);
    expectProblem(error, '', /^YAML syntax error at line \d+, column \d+: /);
  });

  it('reports a missing file naming the file', () => {
    const file = join(dir, 'missing.yaml');
    const load = () => loadConfig({ file, env: ENV, cwd: dir });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(`${file}: config file not found`);
  });

  it('lists every problem, one line each, as file: key path: reason', () => {
    const yaml = `extra: 1\n${PIPELINE}    timeout: soon\njobs:\n  j:\n    pipeline: other\n    cron: "bad"\n`;
    const error = errorOf(yaml, {});
    const file = join(dir, 'cronwarden.yaml');
    expect(error.file).toBe(file);
    expect(error.problems.map((problem) => problem.path)).toEqual(['extra', 'pipelines.main.timeout', 'jobs.j.pipeline', 'jobs.j.cron', 'env.JWT_SECRET']);
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(5);
    error.problems.forEach((problem, index) => expect(lines[index]).toBe(`${file}: ${problem.path}: ${problem.message}`));
  });
});

describe('resolveConfigPath', () => {
  it('uses config/cronwarden.yaml under the working directory by default', () => {
    expect(resolveConfigPath({}, '/srv/cw')).toBe('/srv/cw/config/cronwarden.yaml');
    expect(resolveConfigPath({ CRONWARDEN_CONFIG: '' }, '/srv/cw')).toBe('/srv/cw/config/cronwarden.yaml');
  });

  it('uses CRONWARDEN_CONFIG when set, made absolute', () => {
    expect(resolveConfigPath({ CRONWARDEN_CONFIG: 'etc/cw.yaml' }, '/srv/cw')).toBe('/srv/cw/etc/cw.yaml');
    expect(resolveConfigPath({ CRONWARDEN_CONFIG: '/etc/cw.yaml' }, '/srv/cw')).toBe('/etc/cw.yaml');
  });
});
