/** Used when the daemon itself has no PATH, so that `command: ["node", …]` still resolves. */
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** Daemon variables every child gets when the daemon has them; everything else must be asked for by name. */
const BASE_NAMES = ['PATH', 'HOME', 'LANG', 'TZ'] as const;

/** What the child is told about the run it belongs to. */
export interface ChildRunInfo {
  runId: string;
  jobId: string;
  trigger: string;
  scheduledFor: Date | null;
  attempt: number;
  params: unknown;
}

export interface ChildEnvOptions {
  daemonEnv: NodeJS.ProcessEnv;
  /** Names of daemon variables the pipeline may inherit (`passEnv`); missing ones are skipped. */
  passEnv: string[];
  /** The pipeline's own `env`; overrides the base and `passEnv`. */
  pipelineEnv: Record<string, string>;
  run: ChildRunInfo;
}

/**
 * Builds a child's whole environment. Nothing of the daemon's environment leaks beyond PATH, HOME,
 * LANG, TZ and the names in `passEnv`, so secrets such as DATABASE_URL or JWT_SECRET stay in the
 * daemon unless a pipeline lists them. Later layers win: base, passEnv, pipeline env, run variables.
 */
export function buildChildEnv(options: ChildEnvOptions): Record<string, string> {
  const { daemonEnv, passEnv, pipelineEnv, run } = options;
  const env: Record<string, string> = { PATH: DEFAULT_PATH };
  for (const name of [...BASE_NAMES, ...passEnv]) {
    const value = daemonEnv[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, pipelineEnv, {
    CRONWARDEN_RUN_ID: run.runId,
    CRONWARDEN_JOB_ID: run.jobId,
    CRONWARDEN_TRIGGER: run.trigger,
    CRONWARDEN_SCHEDULED_FOR: run.scheduledFor?.toISOString() ?? '',
    CRONWARDEN_ATTEMPT: String(run.attempt),
    JOB_INPUT: JSON.stringify(run.params ?? null),
  });
  return env;
}
