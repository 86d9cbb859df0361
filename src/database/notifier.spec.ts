import pg from 'pg';
import { ciMustSetDatabaseUrl } from '../../test/support/databases.js';
import { Notifier } from './notifier.js';

// Signals reach other nodes only through PostgreSQL (LISTEN/NOTIFY). Without DATABASE_URL (a
// newcomer's `npm test`) this file has only the test below, which holds CI to setting it.
ciMustSetDatabaseUrl('runs the notifier tests wherever CI runs (CI must set DATABASE_URL, or they would be dropped silently)');

for (const url of process.env.DATABASE_URL ? [process.env.DATABASE_URL] : []) {
  describe('Notifier on postgres', () => {
    let sender: Notifier;
    let listener: pg.Client;
    const received: Array<{ name: string; payload: { runId: string; jobIds?: string[] } }> = [];

    beforeAll(async () => {
      sender = new Notifier('node-a', url);
      await sender.start();
      listener = new pg.Client({ connectionString: url });
      await listener.connect();
      listener.on('notification', (message) => received.push(JSON.parse(message.payload ?? '{}')));
      await listener.query('LISTEN cronwarden');
    });
    afterAll(async () => {
      await sender?.close();
      await listener?.end();
    });

    const settle = async (count: () => number) => {
      // NOTIFYs arrive in order; a last marker signal says every earlier one has arrived.
      sender.publish('job.changed', { jobId: 'marker' });
      for (let i = 0; i < 200 && !received.some((m) => m.name === 'job.changed'); i++) await new Promise((r) => setTimeout(r, 10));
      return count();
    };

    it('sends a burst of run.queued as a few NOTIFYs and every run.finished', async () => {
      received.length = 0;
      for (let i = 0; i < 100; i++) sender.publish('run.queued', { runId: `q${i}` });
      for (let i = 0; i < 5; i++) sender.publish('run.finished', { runId: `f${i}` } as never);
      const queued = await settle(() => received.filter((m) => m.name === 'run.queued').length);
      expect(queued).toBeGreaterThanOrEqual(1);
      expect(queued).toBeLessThan(10);
      expect(received.filter((m) => m.name === 'run.finished').map((m) => m.payload.runId)).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']);
    });

    /** Counts the statements the sender's LISTEN connection sends (its NOTIFYs) until `stop()`. */
    const countStatements = () => {
      const client = (sender as unknown as { client: pg.Client }).client;
      const query = client.query.bind(client);
      const counter = { count: 0, stop: () => void (client.query = query) };
      client.query = ((...args: Parameters<pg.Client['query']>) => {
        counter.count++;
        return query(...args);
      }) as pg.Client['query'];
      return counter;
    };

    it('sends signals published together in one statement, each as its own NOTIFY, in order', async () => {
      const statements = countStatements();
      try {
        received.length = 0;
        for (let i = 0; i < 300; i++) sender.publish('run.finished', { runId: `f${i}`, status: 'succeeded' });
        await settle(() => received.length);
        expect(received.filter((m) => m.name === 'run.finished').map((m) => m.payload.runId)).toEqual(Array.from({ length: 300 }, (_, i) => `f${i}`));
        // 300 signals and the marker: one statement, or two when the marker came after the first went out.
        expect(statements.count).toBeLessThanOrEqual(2);
      } finally {
        statements.stop();
      }
    });

    it('holds the first signal a moment for others, so signals published a few promise callbacks apart share a statement', async () => {
      const statements = countStatements();
      try {
        received.length = 0;
        sender.publish('run.finished', { runId: 'a', status: 'succeeded' });
        // Microtasks only: a statement sent at once would be on its way now; no timer can have fired.
        for (let i = 0; i < 5; i++) await Promise.resolve();
        sender.publish('run.finished', { runId: 'b', status: 'succeeded' });
        await settle(() => received.length);
        expect(received.filter((m) => m.name === 'run.finished').map((m) => m.payload.runId)).toEqual(['a', 'b']);
        expect(statements.count).toBe(1);
      } finally {
        statements.stop();
      }
    });

    it('sends a run.queued published after the previous one went out (receivers always hear of the last one)', async () => {
      received.length = 0;
      sender.publish('run.queued', { runId: 'first' });
      await settle(() => received.length);
      received.length = 0;
      sender.publish('run.queued', { runId: 'second' });
      await settle(() => received.length);
      expect(received.filter((m) => m.name === 'run.queued').map((m) => m.payload.runId)).toEqual(['second']);
    });

    it('merges the jobs of coalesced run.queued signals into the one sent, so other nodes hear of every job', async () => {
      received.length = 0;
      for (let i = 0; i < 100; i++) sender.publish('run.queued', { runId: `q${i}`, jobIds: [`job-${i % 40}`] });
      await settle(() => received.length);
      const sent = received.filter((m) => m.name === 'run.queued');
      expect(sent.length).toBeLessThan(10);
      expect(new Set(sent.flatMap((m) => m.payload.jobIds ?? []))).toEqual(new Set(Array.from({ length: 40 }, (_, i) => `job-${i}`)));
    });

    it('says "any job" (no ids) when a signal without ids merges in, or the ids would not fit in one NOTIFY', async () => {
      received.length = 0;
      sender.publish('run.changed', { jobIds: Array.from({ length: 2000 }, (_, i) => `a-rather-long-job-id-${i}`) });
      await settle(() => received.length);
      expect(received.filter((m) => m.name === 'run.changed').map((m) => m.payload)).toEqual([{}]);
      received.length = 0;
      sender.publish('run.changed', { jobIds: ['a'] });
      sender.publish('run.changed', {});
      sender.publish('run.changed', { jobIds: ['b'] });
      await settle(() => received.length);
      const sent = received.filter((m) => m.name === 'run.changed');
      expect(sent.some((m) => m.payload.jobIds === undefined)).toBe(true);
      expect(sent.flatMap((m) => m.payload.jobIds ?? [])).not.toContain('b');
    });
  });
}
