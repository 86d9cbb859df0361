import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import pg from 'pg';

/**
 * The jobs whose runs a signal is about, for the job list's cache. Absent means "any job": a
 * node of an earlier version, or too many ids for one NOTIFY.
 */
export interface JobIds {
  jobIds?: string[];
}

/** Signals nodes send each other. Payloads are small: receivers re-read the database. */
export interface Signals {
  /** A run was queued: executors should look for work. */
  'run.queued': { runId: string } & JobIds;
  /**
   * Runs were staged ahead of their instants (epoch ms, ascending): executors claim at those
   * times. A few hundred instants at most per signal, to stay within a NOTIFY payload.
   */
  'run.staged': { dueAt: number[] };
  /** A job was created, changed, paused, resumed or removed: schedulers reload it. */
  'job.changed': { jobId: string };
  /** A cancel was asked for a running run: the node running it kills it. */
  'run.cancel': { runId: string } & JobIds;
  /** A run reached a final state. */
  'run.finished': { runId: string; status: string } & JobIds;
  /** Runs changed in a way the signals above do not tell (claimed, cancelled while queued): lists re-read them. */
  'run.changed': JobIds;
}
export type SignalName = keyof Signals;

/** Signals whose receivers only re-read: while one waits to be sent, later ones merge into it. */
const COALESCED = new Set<SignalName>(['run.queued', 'run.changed']);
/** NOTIFY payloads must stay under 8,000 bytes: past this many characters of ids, "any job" is sent. */
const MAX_JOB_ID_CHARS = 4000;
/**
 * How long the first signal waits for others before a statement sends them all. Each statement is
 * a transaction that wakes every listening connection: a burst of runs sent one a few hundred
 * microseconds apart cost 0.7 statements a run. Other nodes also poll, so a few ms more are nothing.
 */
const SEND_WINDOW_MS = 5;
/** Signals sent by one statement at most. */
const MAX_PER_STATEMENT = 500;
/** How long a close waits for signals still being sent. */
const CLOSE_FLUSH_MS = 1_000;

const CHANNEL = 'cronwarden';
const RECONNECT_MS = [250, 1000, 5000];

/**
 * Wakes this node's parts at once, and on PostgreSQL the other nodes too (LISTEN/NOTIFY). On the
 * embedded database there is only one node, and its shared session would not deliver a NOTIFY
 * across connections anyway, so signals stay in process. A lost notification only costs latency:
 * every receiver also polls.
 */
export class Notifier {
  private readonly local = new EventEmitter().setMaxListeners(100);
  private readonly logger = new Logger(Notifier.name);
  private client: pg.Client | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  /** Signals waiting to be sent, in order: the next statement sends all of them. */
  private queue: Array<{ name: SignalName; payload: unknown }> = [];
  /** The coalesced signals waiting to be sent, by name, with the job ids merged into them. */
  private readonly waiting = new Map<SignalName, JobIds>();
  private sending: Promise<void> | null = null;

  constructor(
    private readonly nodeId: string,
    private readonly databaseUrl: string | null,
  ) {}

  async start(): Promise<void> {
    if (this.databaseUrl) await this.listen(0);
  }

  on<K extends SignalName>(name: K, handler: (payload: Signals[K]) => void): () => void {
    this.local.on(name, handler);
    return () => this.local.off(name, handler);
  }

  /**
   * Delivers locally now and to the other nodes through the database. Never throws. Signals
   * published within SEND_WINDOW_MS of each other, or while a statement is on its way, go out
   * together in one statement, a NOTIFY each: a burst of a thousand runs costs a few round trips.
   */
  publish<K extends SignalName>(name: K, payload: Signals[K]): void {
    this.local.emit(name, payload);
    if (!this.client) return;
    if (COALESCED.has(name)) {
      // Receivers only re-read: while one waits to be sent, another adds its jobs to it and says nothing more.
      const waiting = this.waiting.get(name);
      if (waiting) {
        waiting.jobIds = mergeJobIds(waiting.jobIds, (payload as JobIds).jobIds);
        return;
      }
      const copy = { ...payload } as JobIds;
      this.waiting.set(name, copy);
      this.queue.push({ name, payload: copy });
    } else {
      this.queue.push({ name, payload });
    }
    this.sending ??= new Promise((resolve) => setTimeout(resolve, SEND_WINDOW_MS)).then(() => this.send());
  }

  /** Sends what waits, one statement at a time on the LISTEN connection (pg deprecates overlapping queries), until nothing does. */
  private async send(): Promise<void> {
    while (this.queue.length > 0) {
      const client = this.client;
      const batch = this.queue.splice(0, MAX_PER_STATEMENT);
      for (const { name, payload } of batch) if (this.waiting.get(name) === payload) this.waiting.delete(name);
      // Without a connection they are lost, like a NOTIFY no one hears: every receiver also polls.
      if (!client) continue;
      const messages = batch.map(({ name, payload }) => JSON.stringify({ from: this.nodeId, name, payload: bounded(payload) }));
      try {
        // unnest yields the messages in order, and NOTIFYs of one transaction arrive in the order sent.
        await client.query('SELECT pg_notify($1, message) FROM unnest($2::text[]) AS message', [CHANNEL, messages]);
      } catch (error) {
        const names = [...new Set(batch.map(({ name }) => name))].join(', ');
        this.logger.warn(`could not notify other nodes of ${names}: ${(error as Error).message}`);
      }
    }
    this.sending = null;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.local.removeAllListeners();
    // Signals published before the close (a shutdown's last runs) still go out, unless the database does not answer.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.sending, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_FLUSH_MS)))]);
    clearTimeout(timer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async listen(attempt: number): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.databaseUrl!, application_name: 'cronwarden-listen' });
    client.on('error', (error) => this.reconnect(client, error, attempt));
    client.on('notification', (message) => this.receive(message.payload));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.closed) {
        await client.end();
        return;
      }
      this.client = client;
      attempt = 0;
    } catch (error) {
      this.reconnect(client, error as Error, attempt);
    }
  }

  private reconnect(client: pg.Client, error: Error, attempt: number): void {
    if (this.closed || (this.client !== client && this.client !== null)) return;
    this.client = null;
    client.end().catch(() => undefined);
    const delay = RECONNECT_MS[Math.min(attempt, RECONNECT_MS.length - 1)];
    this.logger.warn(`LISTEN connection lost (${error.message}); reconnecting in ${delay} ms`);
    this.retry = setTimeout(() => void this.listen(attempt + 1), delay);
  }

  private receive(raw: string | undefined): void {
    try {
      const message = JSON.parse(raw ?? '') as { from: string; name: SignalName; payload: unknown };
      if (message.from !== this.nodeId) this.local.emit(message.name, message.payload);
    } catch {
      this.logger.warn('ignored a malformed notification');
    }
  }
}

/** Both lists of jobs, or "any job" when either is. */
function mergeJobIds(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  return a === undefined || b === undefined ? undefined : [...new Set([...a, ...b])];
}

/** The payload as sent to other nodes: a list of job ids too long for a NOTIFY becomes "any job". */
function bounded<T>(payload: T): T {
  const ids = (payload as JobIds).jobIds;
  if (ids === undefined || ids.reduce((chars, id) => chars + id.length + 3, 0) <= MAX_JOB_ID_CHARS) return payload;
  const { jobIds: _dropped, ...rest } = payload as JobIds;
  return rest as T;
}
