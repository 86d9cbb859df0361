import { Clock } from '../common/clock.js';
import { RunOutputRepository } from '../runs/run-output.repository.js';
import { openMigratedDatabase, type MigratedDatabase } from '../../test/support/migrated-database.js';
import { testDatabaseKinds } from '../../test/support/databases.js';
import { OutputCapture } from './output-capture.js';
import { OutputFlusher } from './output-flusher.js';

const START = 1_000_000;

class FakeClock extends Clock {
  at = START;
  override now(): number {
    return this.at;
  }
}

const TAIL_EVERY_MS = 2_000;

describe.each(testDatabaseKinds())('OutputFlusher on %s', (kind) => {
  let db: MigratedDatabase;
  let repository: RunOutputRepository;

  beforeAll(async () => {
    db = await openMigratedDatabase(kind);
    repository = new RunOutputRepository(db.database);
  });
  afterAll(async () => db?.close());

  /** A capture keeping 8 bytes of head and 8 of tail, its flusher and a clock to move. */
  async function setUp() {
    const runId = await db.createRun();
    const clock = new FakeClock();
    const capture = new OutputCapture(16);
    const flusher = new OutputFlusher(runId, capture, repository, clock, TAIL_EVERY_MS);
    const stored = async () => {
      const { head, tail } = await repository.read(runId);
      return { head: Buffer.concat(head.map((chunk) => chunk.data)).toString(), tail: Buffer.concat(tail.map((chunk) => chunk.data)).toString() };
    };
    return { clock, capture, flusher, stored };
  }

  it('writes head chunks on every flush but the moving tail at most every tailEveryMs, and all of it at the end', async () => {
    const { clock, capture, flusher, stored } = await setUp();
    capture.write('stdout', Buffer.from('HEADHEADtail-1'));
    await flusher.flush();
    expect(await stored()).toEqual({ head: 'HEADHEAD', tail: '' });

    for (const [after, text] of [[500, 'tail-2'], [1_000, 'tail-3'], [1_999, 'tail-4']] as const) {
      clock.at = START + after;
      capture.write('stdout', Buffer.from(text));
      const statements = db.recordStatements();
      await flusher.flush();
      expect(statements).toEqual([]);
      expect(await stored()).toEqual({ head: 'HEADHEAD', tail: '' });
    }

    clock.at = START + TAIL_EVERY_MS;
    await flusher.flush();
    expect(await stored()).toEqual({ head: 'HEADHEAD', tail: '-3tail-4' });

    clock.at += 1_500;
    capture.write('stderr', Buffer.from('tail-5'));
    await flusher.flush();
    expect((await stored()).tail).toBe('-3tail-4');

    clock.at += 100;
    capture.write('stdout', Buffer.from('end'));
    await flusher.flush(true);
    expect(await stored()).toEqual({ head: 'HEADHEAD', tail: 'ail-5end' });
  });

  it('writes the tail at once when it first changes after a quiet tailEveryMs', async () => {
    const { clock, capture, flusher, stored } = await setUp();
    capture.write('stdout', Buffer.from('HEADHEAD'));
    clock.at += 10 * TAIL_EVERY_MS;
    capture.write('stdout', Buffer.from('late'));
    await flusher.flush();
    expect(await stored()).toEqual({ head: 'HEADHEAD', tail: 'late' });
  });

  it('writes new head chunks with one statement and no transaction, and nothing when nothing is new', async () => {
    const { capture, flusher, stored } = await setUp();
    capture.write('stdout', Buffer.from('ab'));
    capture.write('stderr', Buffer.from('cd'));
    const statements = db.recordStatements();
    await flusher.flush();
    await flusher.flush();

    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^INSERT INTO cw_run_output/);
    expect((await stored()).head).toBe('abcd');
  });
});
