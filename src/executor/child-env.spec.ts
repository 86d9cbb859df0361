import { buildChildEnv, type ChildEnvOptions } from './child-env.js';

const daemonEnv = {
  PATH: '/opt/bin:/usr/bin',
  HOME: '/home/cronwarden',
  LANG: 'C.UTF-8',
  DATABASE_URL: 'postgres://secret@db/prod',
  JWT_SECRET: 'hunter2',
  AWS_REGION: 'eu-west-1',
};

function options(overrides: Partial<ChildEnvOptions> = {}): ChildEnvOptions {
  return {
    daemonEnv,
    passEnv: [],
    pipelineEnv: {},
    run: { runId: 'run-1', jobId: 'job-1', trigger: 'schedule', scheduledFor: new Date('2025-03-30T01:30:00Z'), attempt: 1, params: { video: 'a.mp4' } },
    ...overrides,
  };
}

describe('buildChildEnv', () => {
  it('gives the child only the base variables and the run variables by default', () => {
    expect(buildChildEnv(options())).toEqual({
      PATH: '/opt/bin:/usr/bin',
      HOME: '/home/cronwarden',
      LANG: 'C.UTF-8',
      CRONWARDEN_RUN_ID: 'run-1',
      CRONWARDEN_JOB_ID: 'job-1',
      CRONWARDEN_TRIGGER: 'schedule',
      CRONWARDEN_SCHEDULED_FOR: '2025-03-30T01:30:00.000Z',
      CRONWARDEN_ATTEMPT: '1',
      JOB_INPUT: '{"video":"a.mp4"}',
    });
  });

  it('keeps the daemon secrets out unless passEnv names them', () => {
    const plain = buildChildEnv(options());
    expect(plain).not.toHaveProperty('DATABASE_URL');
    expect(plain).not.toHaveProperty('JWT_SECRET');

    const passed = buildChildEnv(options({ passEnv: ['DATABASE_URL', 'AWS_REGION'] }));
    expect(passed.DATABASE_URL).toBe('postgres://secret@db/prod');
    expect(passed.AWS_REGION).toBe('eu-west-1');
    expect(passed).not.toHaveProperty('JWT_SECRET');
  });

  it('skips passEnv names the daemon does not have', () => {
    expect(buildChildEnv(options({ passEnv: ['NOT_SET_ANYWHERE'] }))).not.toHaveProperty('NOT_SET_ANYWHERE');
  });

  it('falls back to a standard PATH when the daemon has none', () => {
    expect(buildChildEnv(options({ daemonEnv: {} })).PATH).toBe('/usr/local/bin:/usr/bin:/bin');
  });

  it('lets the pipeline env override the base and passEnv, and the run variables override the pipeline', () => {
    const env = buildChildEnv(
      options({ passEnv: ['AWS_REGION'], pipelineEnv: { PATH: '/pipeline/bin', AWS_REGION: 'us-east-1', JOB_INPUT: 'forged' } }),
    );
    expect(env.PATH).toBe('/pipeline/bin');
    expect(env.AWS_REGION).toBe('us-east-1');
    expect(env.JOB_INPUT).toBe('{"video":"a.mp4"}');
  });

  it('leaves CRONWARDEN_SCHEDULED_FOR empty for a run with no scheduled instant', () => {
    const env = buildChildEnv(options({ run: { runId: 'r', jobId: 'j', trigger: 'manual', scheduledFor: null, attempt: 2, params: {} } }));
    expect(env.CRONWARDEN_SCHEDULED_FOR).toBe('');
    expect(env.CRONWARDEN_ATTEMPT).toBe('2');
    expect(env.JOB_INPUT).toBe('{}');
  });
});
