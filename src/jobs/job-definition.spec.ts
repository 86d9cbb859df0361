import type { PipelineConfig } from '../config/config.types.js';
import { changedJobDefinition, definitionChanges, generatedJobId, newJobDefinition } from './job-definition.js';
import type { JobRow } from './jobs.repository.js';

const pipelines = new Map([['main', {} as PipelineConfig], ['other', {} as PipelineConfig]]);

const row = (overrides: Partial<JobRow> = {}): JobRow => ({
  id: 'j', name: 'J', pipeline: 'main', cron: '0 3 * * *', everyMs: null, timezone: 'Europe/Berlin', params: { a: 1 }, overlap: 'skip',
  catchup: 'once', catchupWindowMs: 21_600_000, jitterMs: 0, owner: 'alice', source: 'api', enabled: true, paused: false,
  pauseNote: null, pausedBy: null, pausedAt: null, anchorAt: null, nextFireAt: null, version: 1, createdAt: new Date(), updatedAt: new Date(),
  expectSuccessWithinMs: null, ...overrides,
});

describe('newJobDefinition', () => {
  it('fills in the defaults and parses durations', () => {
    expect(newJobDefinition({ pipeline: 'main', every: '1h30m', jitter: '10s' }, 'x', 'alice', pipelines)).toEqual({
      name: 'x', pipeline: 'main', cron: null, everyMs: 5_400_000, timezone: 'UTC', params: {}, overlap: 'skip', catchup: 'once',
      catchupWindowMs: 21_600_000, jitterMs: 10_000, owner: 'alice',
    });
  });

  it('names the field at fault', () => {
    const fieldOf = (dto: object) => {
      try {
        newJobDefinition({ pipeline: 'main', ...dto }, 'x', 'alice', pipelines);
        return null;
      } catch (error) {
        return (error as { field: string }).field;
      }
    };
    expect(fieldOf({ every: '1h', pipeline: 'nope' })).toBe('pipeline');
    expect(fieldOf({ cron: '0 3 * * *', timezone: 'Nowhere/Land' })).toBe('timezone');
    expect(fieldOf({ cron: 'not cron' })).toBe('cron');
    expect(fieldOf({})).toBe('cron');
    expect(fieldOf({ cron: '* * * * *', every: '1h' })).toBe('cron');
  });
});

describe('changedJobDefinition', () => {
  it('keeps what is not given, and says when the instants moved', () => {
    expect(changedJobDefinition(row(), { name: 'K' }, pipelines)).toMatchObject({ definition: { name: 'K', cron: '0 3 * * *' }, scheduleChanged: false });
    expect(changedJobDefinition(row(), { every: '5h' }, pipelines)).toMatchObject({ definition: { cron: null, everyMs: 18_000_000 }, scheduleChanged: true });
    expect(changedJobDefinition(row(), { timezone: 'UTC' }, pipelines).scheduleChanged).toBe(true);
    expect(changedJobDefinition(row({ cron: null, everyMs: 60_000 }), { timezone: 'UTC' }, pipelines).scheduleChanged).toBe(false);
  });
});

describe('definitionChanges', () => {
  it('lists the fields whose value differs as from/to', () => {
    expect(definitionChanges(row(), row({ name: 'K', params: { a: 2 } }))).toEqual({ name: { from: 'J', to: 'K' }, params: { from: { a: 1 }, to: { a: 2 } } });
  });
});

describe('generatedJobId', () => {
  it('slugs the name and adds a random suffix', () => {
    expect(generatedJobId('  Ünïcode & Co. -- Report!  ')).toMatch(/^unicode-co-report-[0-9a-f]{8}$/);
    expect(generatedJobId(undefined)).toMatch(/^job-[0-9a-f]{8}$/);
    expect(generatedJobId('x'.repeat(100))).toMatch(/^x{48}-[0-9a-f]{8}$/);
    expect(generatedJobId('a')).not.toBe(generatedJobId('a'));
  });
});
