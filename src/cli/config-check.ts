import { Command } from 'commander';
import { CONFIG_EXIT_CODE, ConfigError, loadConfig, resolveConfigPath } from '../config/config.loader.js';
import type { CronwardenConfig } from '../config/config.types.js';
import { formatDuration } from '../config/durations.js';
import { LOCAL_SECRET_FILE } from '../config/local-secret.js';
import { CliError } from './cli-error.js';

// Only validated, never used to sign or verify: stands in for the secret the daemon would generate.
const PLACEHOLDER_SECRET = 'placeholder-for-the-generated-local-secret';

/** `cronwarden config check [file]`: loads the config as the daemon would and prints a summary, or every problem (exit 78). */
export function configCommand(env: NodeJS.ProcessEnv, cwd: string): Command {
  const config = new Command('config').description('check the configuration file and environment');
  config.command('check')
    .description('load the config as the daemon would: print a summary, or every problem and exit 78')
    .argument('[file]', 'the config file (default: $CRONWARDEN_CONFIG or config/cronwarden.yaml)')
    .action((file: string | undefined) => {
      process.stdout.write(`${checkConfig(file ?? resolveConfigPath(env, cwd), env, cwd)}\n`);
    });
  return config;
}

/** The summary of a valid configuration; throws a CliError (exit 78) listing every problem otherwise. */
export function checkConfig(file: string, env: NodeJS.ProcessEnv, cwd: string): string {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  // A lone daemon on the embedded database generates its secret at start (withLocalSecret); checking must not.
  const generated = !set('JWT_SECRET') && !set('JWT_PUBLIC_KEY') && !set('DATABASE_URL');
  let config: CronwardenConfig;
  try {
    config = loadConfig({ file, env: generated ? { ...env, JWT_SECRET: PLACEHOLDER_SECRET } : env, cwd });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const count = error.problems.length === 1 ? '1 problem' : `${error.problems.length} problems`;
    throw new CliError(`invalid configuration (${count}):\n${error.message}`, CONFIG_EXIT_CODE);
  }
  return summary(config, generated);
}

function summary(config: CronwardenConfig, generatedSecret: boolean): string {
  const { env, daemon } = config;
  const jobs = [...config.jobs.values()].map((job) => {
    const when = job.everyMs !== null ? `every ${formatDuration(job.everyMs)}` : `cron "${job.cron}" ${job.timezone}`;
    return `    ${job.id}: ${job.pipeline}, ${when}${job.paused ? ', paused' : ''}`;
  });
  const jwt = env.jwt;
  const auth = generatedSecret
    ? `HS256 with the secret generated in ${env.dataDir}/${LOCAL_SECRET_FILE} (single node only)`
    : `${jwt.algorithms.join(', ')} with ${jwt.secret ? 'JWT_SECRET' : 'JWT_PUBLIC_KEY'}${jwt.issuer ? `, issuer ${jwt.issuer}` : ''}${jwt.audience ? `, audience ${jwt.audience}` : ''}`;
  return [
    `ok: ${config.file}`,
    `  database:  ${env.databaseUrl ? `PostgreSQL at ${databaseHost(env.databaseUrl)}` : `embedded, in ${env.dataDir}`}`,
    `  auth:      ${auth}`,
    `  port:      ${env.port}`,
    `  daemon:    ${daemon.maxConcurrentRuns} runs at once, ${formatDuration(daemon.shutdownGraceMs)} shutdown grace`,
    `  pipelines: ${config.pipelines.size} (${[...config.pipelines.keys()].join(', ') || 'none'})`,
    `  jobs:      ${config.jobs.size}`,
    ...jobs,
  ].join('\n');
}

/** Host, port and database of a URL, never its password. */
function databaseHost(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || parsed.searchParams.get('host') || 'localhost'}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}
