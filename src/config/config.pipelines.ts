/** The `pipelines:` part of the file: which programs the daemon may run, and their limits. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { notifyTargets } from './config.notify.js';
import type { PipelineConfig, RetryPolicy } from './config.types.js';
import { boolean, decimal, duration, integer, isPlainObject, type Parse, Section, show, size, stringList, text } from './config.section.js';

const PIPELINE_KEYS = ['command', 'shell', 'cwd', 'env', 'passEnv', 'timeout', 'killGrace', 'maxOutputBytes', 'retries', 'notify', 'requeueOnShutdown'];
const RETRY_KEYS = ['max', 'backoff', 'factor'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KiB = 1_024;

/** Reads one pipeline; `cwd` is the directory the daemon was started in. */
export function readPipeline(section: Section, id: string, cwd: string): PipelineConfig {
  section.allowOnly(PIPELINE_KEYS);
  const shell = section.read('shell', false, boolean);
  return {
    id,
    command: section.require('command', commandList(shell)) ?? [],
    shell,
    // A relative `cwd` is resolved against the daemon's own working directory (normally the project
    // root), the same place relative paths in `command` are meant from, not the config file's folder.
    cwd: section.read('cwd', cwd, directory(cwd)),
    env: readEnvMap(section.section('env')),
    passEnv: section.read('passEnv', [], stringList(envNameProblem)),
    timeoutMs: section.read('timeout', 3_600_000, duration(1_000)),
    killGraceMs: section.read('killGrace', 10_000, duration()),
    maxOutputBytes: section.read('maxOutputBytes', 10 * KiB * KiB, size(KiB, KiB ** 3)),
    retries: readRetries(section),
    notify: section.read('notify', [], notifyTargets),
    requeueOnShutdown: section.read('requeueOnShutdown', false, boolean),
  };
}

/** Why a name cannot be an environment variable set for a child, or null if it can. */
export function envNameProblem(name: string): string | null {
  if (!ENV_NAME.test(name)) return 'is not an environment variable name (letters, digits and _, not starting with a digit)';
  // The executor sets these for every run; a pipeline must not be able to fake them.
  if (name.startsWith('CRONWARDEN_') || name === 'JOB_INPUT') return 'is reserved for the run metadata cronwarden passes to the child';
  return null;
}

/** argv as a list; with `shell: true`, exactly one item: the command line for `/bin/sh -c`. */
function commandList(shell: boolean): Parse<string[]> {
  return (value) => {
    if (typeof value === 'string' && !shell) {
      throw new Error(`must be a list: the program and its arguments, e.g. ["node", "script.mjs"]; for a shell command line set shell: true and write [${show(value)}]`);
    }
    const command = stringList()(value);
    if (command.length === 0 || command[0].trim() === '') throw new Error('must name a program to run as its first item');
    if (shell && command.length !== 1) {
      throw new Error(`with shell: true must be one item, the command line for /bin/sh -c, not ${command.length} items`);
    }
    return command;
  };
}

/** An existing directory, relative paths resolved against `base`. */
function directory(base: string): Parse<string> {
  return (value) => {
    const path = resolve(base, text(value));
    if (!existsSync(path) || !statSync(path).isDirectory()) throw new Error(`${show(value)}: no directory ${path}`);
    return path;
  };
}

/** Environment variables set for the child: names checked, values strings only. */
function readEnvMap(section: Section): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(section.values)) {
    const nameProblem = envNameProblem(name);
    if (nameProblem) section.report(name, nameProblem);
    // YAML reads `DEBUG: 1` as a number and `FLAG: true` as a boolean; quoting says what the child gets.
    else if (typeof value !== 'string') section.report(name, `must be a string, not ${show(value)}; quote it, e.g. ${name}: "${value ?? ''}"`);
    else env[name] = value;
  }
  return env;
}

/** `retries: 3` means `{max: 3}`; otherwise a mapping of `max`, `backoff` and `factor`. */
/** `retries: N` or `retries: { max, backoff, factor }` (pipelines and jobs). */
export function readRetries(section: Section): RetryPolicy {
  const defaults: RetryPolicy = { max: 0, backoffMs: 30_000, factor: 2 };
  if (!section.isSet('retries')) return defaults;
  if (!isPlainObject(section.values.retries)) return { ...defaults, max: section.read('retries', 0, integer(0, 100)) };
  const retries = section.section('retries');
  retries.allowOnly(RETRY_KEYS);
  return {
    max: retries.read('max', defaults.max, integer(0, 100)),
    backoffMs: retries.read('backoff', defaults.backoffMs, duration()),
    factor: retries.read('factor', defaults.factor, decimal(1, 10)),
  };
}
