import { QueryFailedError } from 'typeorm';
import { DatabaseUnavailableError, isDatabaseUnavailable, isTransientDatabaseError } from './errors.js';

const pgError = (code: string) => new QueryFailedError('SELECT 1', [], Object.assign(new Error('x'), { code }));
const poolTimeout = () => new DatabaseUnavailableError('no database connection', { cause: new Error('timeout exceeded when trying to connect') });

describe('isTransientDatabaseError', () => {
  it('retries what a database outage or overload looks like', () => {
    expect(isTransientDatabaseError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientDatabaseError(new Error('Connection terminated unexpectedly'))).toBe(true);
    for (const code of ['08006', '40001', '53300', '57P01', '58030']) expect(isTransientDatabaseError(pgError(code))).toBe(true);
    expect(isTransientDatabaseError(pgError('EPIPE'))).toBe(true);
    expect(isTransientDatabaseError(poolTimeout())).toBe(true);
  });

  it('does not retry a statement that fails the same way every time', () => {
    for (const code of ['42P08', '42703', '22P02', '23505']) expect(isTransientDatabaseError(pgError(code))).toBe(false);
  });

  it('does not retry a connection the server refuses for good (a wrong password)', () => {
    expect(isTransientDatabaseError(new DatabaseUnavailableError('no database connection', { cause: Object.assign(new Error('auth'), { code: '28P01' }) }))).toBe(false);
  });
});

describe('isDatabaseUnavailable', () => {
  it('holds for no connection to be had, a connection lost mid-statement, and a server that is shutting down or overloaded', () => {
    expect(isDatabaseUnavailable(poolTimeout())).toBe(true);
    for (const code of ['ECONNRESET', 'EPIPE', '08006', '57P01', '57P03', '53300', '40001']) expect(isDatabaseUnavailable(pgError(code))).toBe(true);
  });

  it('does not hold for a bad statement, a statement error without a code, or errors that did not come from the database', () => {
    for (const code of ['42703', '23505', '22P02']) expect(isDatabaseUnavailable(pgError(code))).toBe(false);
    expect(isDatabaseUnavailable(new QueryFailedError('SELECT $1', [], new TypeError('cannot serialise the parameter')))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
  });
});
