import { Database } from '../../src/database/database.js';
import { JobsRepository } from '../../src/jobs/jobs.repository.js';
import { testDatabaseKinds } from '../support/databases.js';
import { openMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';

type PlanNode = { 'Node Type': string; 'Index Name'?: string; 'Index Cond'?: string; Plans?: PlanNode[] };

/** The real database, asked for the plan of each statement instead of its rows. */
class ExplainingDatabase extends Database {
  override async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return super.rows<T>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  }
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

describe.each(testDatabaseKinds())('a page of the job list on %s', (kind) => {
  let migrated: MigratedDatabase;
  let db: Database;
  let plans: JobsRepository;

  beforeAll(async () => {
    migrated = await openMigratedDatabase(kind);
    db = migrated.database;
    plans = new JobsRepository(new ExplainingDatabase(migrated.dataSource, kind));
    await db.rows(
      `INSERT INTO cw_jobs (id, name, pipeline, cron, owner, source)
       SELECT 'job-' || lpad(i::text, 6, '0'), 'Job ' || i, 'main', (i % 60) || ' ' || (i % 24) || ' * * ' || (i % 7), 'owner-' || (i % 50), 'api'
       FROM generate_series(1, 20000) AS i`,
    );
    await db.rows('ANALYZE cw_jobs');
  });
  afterAll(async () => {
    await migrated?.close();
  });

  const planOf = async (after: string | null) => {
    const [row] = await plans.list({ visibleTo: null }, { after, limit: 101 }) as unknown as Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>;
    return nodesOf(row['QUERY PLAN'][0].Plan);
  };

  it('is a range scan of the primary key, never a sort of the table', async () => {
    for (const after of [null, 'job-010000']) {
      const nodes = await planOf(after);
      expect(nodes.map((node) => node['Node Type'])).toEqual(['Limit', 'Index Scan']);
      expect(nodes[1]['Index Name']).toBe('cw_jobs_pkey');
      expect(nodes[1]['Index Cond']).toMatch(/\(id > /);
    }
  });

  it('returns the jobs after the cursor in id order', async () => {
    const repository = new JobsRepository(db);
    const page = await repository.list({ visibleTo: null }, { after: 'job-010000', limit: 3 });
    expect(page.map((row) => row.id)).toEqual(['job-010001', 'job-010002', 'job-010003']);
    const mine = await repository.list({ visibleTo: 'owner-7' }, { after: 'job-010000', limit: 2 });
    expect(mine.map((row) => row.id)).toEqual(['job-010007', 'job-010057']);
  });
});
