import { QueryFailedError } from 'typeorm';
import { isTransientDatabaseError } from './errors.js';

const pgError = (code: string) => new QueryFailedError('SELECT 1', [], Object.assign(new Error('x'), { code }));

describe('isTransientDatabaseError', () => {
  it('retries what a database outage or overload looks like', () => {
    expect(isTransientDatabaseError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientDatabaseError(new Error('Connection terminated unexpectedly'))).toBe(true);
    for (const code of ['08006', '40001', '53300', '57P01', '58030']) expect(isTransientDatabaseError(pgError(code))).toBe(true);
  });

  it('does not retry a statement that fails the same way every time', () => {
    for (const code of ['42P08', '42703', '22P02', '23505']) expect(isTransientDatabaseError(pgError(code))).toBe(false);
  });
});
