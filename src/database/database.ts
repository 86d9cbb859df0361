import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type pg from 'pg';
import { DataSource, QueryFailedError, type QueryRunner } from 'typeorm';
import { DatabaseUnavailableError, pgErrorCode } from '../common/errors.js';
import type { DatabaseTarget } from './data-source.js';

/**
 * Parameterised SQL on the one data source. Repositories use this rather than TypeORM's
 * `DataSource.query`, whose result shape differs between SELECT and UPDATE … RETURNING.
 */
@Injectable()
export class Database {
  /** Tells this Database's prepared statements from any other process's in a shared session. */
  private readonly instance = randomBytes(4).toString('hex');
  private readonly connectionIds = new WeakMap<pg.ClientBase, number>();
  private nextConnectionId = 1;
  /** A number per statement text prepared so far: a bounded set, the daemon's hot statements. */
  private readonly statementIds = new Map<string, number>();
  /** Pooled connections this Database has seen, and those of them whose connection has ended. */
  private readonly watched = new WeakSet<pg.ClientBase>();
  private readonly ended = new WeakSet<pg.ClientBase>();

  constructor(
    readonly dataSource: DataSource,
    readonly kind: DatabaseTarget['kind'],
  ) {}

  /** Connections the pool holds at most (createDataSource's `poolSize`). */
  get poolSize(): number {
    return (this.dataSource.options as { extra?: { max?: number } }).extra?.max ?? 10;
  }

  /** The rows a statement returns (also for INSERT/UPDATE/DELETE … RETURNING). */
  async rows<T>(sql: string, params: unknown[] = [], runner?: QueryRunner): Promise<T[]> {
    return this.withConnection(runner, async (connection) => (await connection.query(sql, params, true)).records as T[]);
  }

  /**
   * Like `rows`, for a statement the daemon runs for every run or trigger: parsed and planned once
   * per connection (a named prepared statement), then only bound and executed. On the embedded
   * database, parse and plan were half the time of a claim. For statements whose text is fixed
   * (no values spliced in), and whose generic plan is as good as a custom one: PostgreSQL may
   * switch to the generic plan after five executions. Errors are TypeORM's, as from `rows`.
   */
  async prepared<T>(sql: string, params: unknown[] = [], runner?: QueryRunner): Promise<T[]> {
    return this.withConnection(runner, (connection) => this.runPrepared<T>(connection, sql, params));
  }

  /** The first row of a prepared statement (see `prepared`), or null. */
  async preparedOne<T>(sql: string, params: unknown[] = [], runner?: QueryRunner): Promise<T | null> {
    return (await this.prepared<T>(sql, params, runner))[0] ?? null;
  }

  /** The first row, or null. */
  async one<T>(sql: string, params: unknown[] = [], runner?: QueryRunner): Promise<T | null> {
    return (await this.rows<T>(sql, params, runner))[0] ?? null;
  }

  /** Runs `work` in one transaction on one connection; pass the runner to every statement inside. */
  async transaction<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    return this.withConnection(undefined, (runner) => runner.manager.transaction(() => work(runner)));
  }

  /** Runs `work` on `runner`, or on a pooled connection of its own, released afterwards. */
  private async withConnection<T>(runner: QueryRunner | undefined, work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    if (runner) return this.onConnection(runner, work);
    const own = await this.connect();
    try {
      return await this.onConnection(own, work);
    } finally {
      await own.release();
    }
  }

  /**
   * Runs `work` on `runner`. A statement that fails without a SQLSTATE because its connection
   * ended under it ("Connection terminated unexpectedly": a server or proxy closing it without an
   * error message, as in a failover) becomes a DatabaseUnavailableError, which the API answers
   * with 503: the same statement may pass on another connection. Without a SQLSTATE on a connection
   * still open, the error stays what it is (the driver refusing a parameter is a bug).
   */
  private async onConnection<T>(runner: QueryRunner, work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const client = (runner as { databaseConnection?: pg.ClientBase }).databaseConnection;
    if (client && !this.watched.has(client)) {
      this.watched.add(client);
      client.once('end', () => this.ended.add(client));
    }
    try {
      return await work(runner);
    } catch (error) {
      if (!client || error instanceof DatabaseUnavailableError || pgErrorCode(error) !== undefined) throw error;
      // pg fails the statement first and emits `end` on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
      if (!this.ended.has(client)) throw error;
      throw new DatabaseUnavailableError(`lost the database connection: ${(error as Error).message}`, { cause: error });
    }
  }

  private async runPrepared<T>(runner: QueryRunner, sql: string, params: unknown[]): Promise<T[]> {
    // A connected runner hands back its connection: the pooled pg client.
    const client = (await runner.connect()) as pg.ClientBase;
    try {
      return (await client.query<T & pg.QueryResultRow>({ name: this.statementName(client, sql), text: sql, values: params })).rows;
    } catch (error) {
      throw new QueryFailedError(sql, params, error as Error);
    }
  }

  /**
   * A name for `sql` on `client`'s connection. The embedded database serves every connection in one
   * session, where names outlive the connection that prepared them: a name is unique to this
   * process and connection, so a new connection never meets an old one's statement.
   */
  private statementName(client: pg.ClientBase, sql: string): string {
    let connection = this.connectionIds.get(client);
    if (connection === undefined) this.connectionIds.set(client, (connection = this.nextConnectionId++));
    let statement = this.statementIds.get(sql);
    if (statement === undefined) this.statementIds.set(sql, (statement = this.statementIds.size + 1));
    return `cw_${this.instance}_${connection}_${statement}`;
  }

  /**
   * A query runner holding a pooled connection. Failing to get one (the pool's timeout, the server
   * away) becomes a DatabaseUnavailableError, which the API answers with 503: the pool's error
   * carries no code to tell it from a bug by.
   */
  private async connect(): Promise<QueryRunner> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      return runner;
    } catch (error) {
      await runner.release();
      throw new DatabaseUnavailableError(`no database connection: ${(error as Error).message}`, { cause: error });
    }
  }
}
