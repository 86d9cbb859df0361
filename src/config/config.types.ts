/**
 * The daemon's configuration after parsing and validation: durations are milliseconds, sizes are
 * bytes, every default filled in. Produced once at start by `loadConfig`; nothing else reads the
 * YAML file or `process.env`.
 */

export type OverlapPolicy = 'skip' | 'queue' | 'allow' | 'replace';
export type CatchupPolicy = 'skip' | 'once' | 'all';

export interface RetryPolicy {
  /** Retries after the first attempt (0 = none). */
  max: number;
  /** Delay before the first retry, ms. */
  backoffMs: number;
  /** Multiplier applied to the delay for each further retry. */
  factor: number;
}

/** A run outcome a webhook can be told about; `recovered` is the first success after a failure, `late` a job gone too long without one. */
export type NotifyEvent = 'failed' | 'timed_out' | 'abandoned' | 'cancelled' | 'succeeded' | 'recovered' | 'late';

export interface NotifyTarget {
  url: string;
  on: NotifyEvent[];
  /** When set, the body is signed with HMAC-SHA256 in the `X-Cronwarden-Signature` header. */
  secret: string | null;
}

export interface PipelineConfig {
  id: string;
  /** argv; command[0] is the program. Run through `/bin/sh -c` only when `shell` is true. */
  command: string[];
  shell: boolean;
  /** Absolute working directory (relative paths in the file are resolved against the config file's folder). */
  cwd: string;
  env: Record<string, string>;
  /** Names of daemon environment variables the child may inherit. */
  passEnv: string[];
  timeoutMs: number;
  killGraceMs: number;
  maxOutputBytes: number;
  retries: RetryPolicy;
  /** Webhooks for the runs of every job on this pipeline. */
  notify: NotifyTarget[];
  /** A run killed because the daemon shut down is queued again (as a retry) instead of only recorded cancelled. */
  requeueOnShutdown: boolean;
}

export interface JobConfig {
  id: string;
  name: string;
  pipeline: string;
  /** Exactly one of `cron` and `everyMs` is set. */
  cron: string | null;
  everyMs: number | null;
  timezone: string;
  params: Record<string, unknown>;
  overlap: OverlapPolicy;
  catchup: CatchupPolicy;
  catchupWindowMs: number;
  jitterMs: number;
  paused: boolean;
  /** Finished runs kept for this job, and how long their output is; null: the daemon's keepRuns / keepOutputFor. */
  keepRuns: number | null;
  keepOutputForMs: number | null;
  /** Overrides the pipeline's retry policy for this job; null: the pipeline's. */
  retries: RetryPolicy | null;
  /** Jobs queued (trigger `chain`) once when a run of this job succeeds… */
  onSuccess: string[];
  /** …or finally fails (failed, timed out or abandoned with no retry left). */
  onFailure: string[];
  /** How long the job may go without a success before it counts as late; null: twice its period. */
  expectSuccessWithinMs: number | null;
  /** Webhooks for this job's runs, besides its pipeline's. */
  notify: NotifyTarget[];
}

export interface DaemonConfig {
  maxConcurrentRuns: number;
  shutdownGraceMs: number;
  nodeTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** How often executors look for queued runs when no wake-up signal came. */
  pollIntervalMs: number;
  /** A run still queued this long after it became claimable is failed with the reason, never left waiting forever. */
  queueTimeoutMs: number;
  /** A node whose clock differs from the database's by more than this stops firing (and is not ready) until it agrees. */
  maxClockSkewMs: number;
  /** Finished runs kept per job; older ones are deleted by the retention sweep. */
  keepRuns: number;
  /** Output of runs that finished longer ago than this is deleted (the run rows stay). */
  keepOutputForMs: number;
  /** At most `limit` API requests per client address in each `windowMs` (429 beyond). */
  rateLimit: { limit: number; windowMs: number };
}

export interface JwtConfig {
  /** HS256 shared secret, or null when a public key is used. */
  secret: string | null;
  /** PEM public key for RS256/ES256, or null. */
  publicKey: string | null;
  algorithms: string[];
  issuer: string | null;
  audience: string | null;
}

export interface EnvConfig {
  databaseUrl: string | null;
  jwt: JwtConfig;
  port: number;
  dataDir: string;
  logLevel: string;
}

export interface CronwardenConfig {
  /** Absolute path of the file this was read from. */
  file: string;
  daemon: DaemonConfig;
  pipelines: Map<string, PipelineConfig>;
  jobs: Map<string, JobConfig>;
  env: EnvConfig;
}
