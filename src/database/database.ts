import { Injectable } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import { DatabaseUnavailableError } from '../common/errors.js';
import type { DatabaseTarget } from './data-source.js';

/**
 * Parameterised SQL on the one data source. Repositories use this rather than TypeORM's
 * `DataSource.query`, whose result shape differs between SELECT and UPDATE … RETURNING.
 */
@Injectable()
export class Database {
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
    if (runner) return (await runner.query(sql, params, true)).records as T[];
    const own = await this.connect();
    try {
      return (await own.query(sql, params, true)).records as T[];
    } finally {
      await own.release();
    }
  }

  /** The first row, or null. */
  async one<T>(sql: string, params: unknown[] = [], runner?: QueryRunner): Promise<T | null> {
    return (await this.rows<T>(sql, params, runner))[0] ?? null;
  }

  /** Runs `work` in one transaction on one connection; pass the runner to every statement inside. */
  async transaction<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = await this.connect();
    try {
      return await runner.manager.transaction(() => work(runner));
    } finally {
      await runner.release();
    }
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
