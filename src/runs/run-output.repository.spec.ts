import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { openMigratedDatabase, type MigratedDatabase } from '../../test/support/migrated-database.js';
import { testDatabaseKinds } from '../../test/support/databases.js';
import { ROWS_PER_INSERT, RunOutputRepository, type StoredChunk } from './run-output.repository.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

const joined = (chunks: StoredChunk[]) => Buffer.concat(chunks.map((chunk) => chunk.data));

describe.each(testDatabaseKinds())('RunOutputRepository on %s', (kind) => {
  let db: MigratedDatabase;
  let repository: RunOutputRepository;

  // One pooled connection, so that every statement goes through the socket the wire test reads.
  beforeAll(async () => {
    db = await openMigratedDatabase(kind, { poolSize: 1 });
    repository = new RunOutputRepository(db.database);
  });
  afterAll(async () => db?.close());

  it('round-trips every byte value, in head and tail, across more chunks than one statement takes', async () => {
    const runId = await db.createRun();
    const count = 2 * ROWS_PER_INSERT + 7;
    const head = Array.from({ length: count }, (_, i): StoredChunk => ({ seq: i + 1, stream: i % 3 === 0 ? 'stderr' : 'stdout', data: ALL_BYTES.subarray(i % 256, (i % 256) + 1) }));
    const tail = [{ seq: count + 1, stream: 'stdout' as const, data: ALL_BYTES }, { seq: count + 2, stream: 'stderr' as const, data: Buffer.alloc(0) }];

    await repository.write(runId, { head, tail });
    const stored = await repository.read(runId);

    expect(stored.head.map((chunk) => [chunk.seq, chunk.stream])).toEqual(head.map((chunk) => [chunk.seq, chunk.stream]));
    expect(joined(stored.head).equals(joined(head))).toBe(true);
    expect(stored.tail.map((chunk) => chunk.seq)).toEqual([count + 1, count + 2]);
    expect(stored.tail[0].data.equals(ALL_BYTES)).toBe(true);
    expect(stored.tail[1].data.length).toBe(0);
    expect(joined((await repository.read(runId, 'stderr')).head).equals(joined(head.filter((chunk) => chunk.stream === 'stderr')))).toBe(true);
  });

  it('appends head chunks and replaces the whole tail', async () => {
    const runId = await db.createRun();
    await repository.write(runId, { head: [{ seq: 1, stream: 'stdout', data: Buffer.from('a') }], tail: null });
    await repository.write(runId, { head: [{ seq: 2, stream: 'stdout', data: Buffer.from('b') }], tail: [{ seq: 3, stream: 'stdout', data: Buffer.from('old') }] });
    await repository.write(runId, { head: [], tail: [{ seq: 5, stream: 'stderr', data: Buffer.from('new') }, { seq: 6, stream: 'stdout', data: Buffer.from('!') }] });

    const stored = await repository.read(runId);
    expect(stored.head.map((chunk) => chunk.data.toString())).toEqual(['a', 'b']);
    expect(stored.tail.map((chunk) => [chunk.seq, chunk.data.toString()])).toEqual([[5, 'new'], [6, '!']]);
  });

  it('lets other statements pass output writes that wait: one write at a time takes the one pooled connection', async () => {
    const runIds = await Promise.all(Array.from({ length: 4 }, () => db.createRun()));
    const done: string[] = [];
    const tail = [{ seq: 1, stream: 'stdout' as const, data: randomBytes(256 * 1024) }];
    const writes = runIds.map((runId, i) => repository.write(runId, { head: [], tail }).then(() => done.push(`write ${i}`)));
    const query = db.database.rows('SELECT 1').then(() => done.push('query'));
    await Promise.all([...writes, query]);

    expect(done).toEqual(['write 0', 'query', 'write 1', 'write 2', 'write 3']);
  });

  it('sends output to the database as raw bytes, not as hex text twice its size', async () => {
    const runId = await db.createRun();
    const socket = await poolSocket(db);
    const tail = Array.from({ length: 16 }, (_, i): StoredChunk => ({ seq: i + 1, stream: 'stdout', data: randomBytes(64 * 1024) }));

    const before = socket.bytesWritten;
    await repository.write(runId, { head: [], tail });
    const sent = socket.bytesWritten - before;

    expect(sent).toBeGreaterThan(1024 * 1024);
    expect(sent).toBeLessThan(1.1 * 1024 * 1024);
    expect(joined((await repository.read(runId)).tail).equals(joined(tail))).toBe(true);
  });
});

/** The socket of the pool's one connection (the pool has one: every statement goes through it). */
async function poolSocket(db: MigratedDatabase): Promise<Socket> {
  const runner = db.database.dataSource.createQueryRunner();
  try {
    const client = (await runner.connect()) as { connection: { stream: Socket } };
    return client.connection.stream;
  } finally {
    await runner.release();
  }
}
