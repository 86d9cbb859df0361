/**
 * The domain's errors, mapped to HTTP in one place (`DomainExceptionFilter`). Services throw these;
 * controllers never build HTTP errors themselves.
 */
export class DomainError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The thing does not exist, or the caller may not learn that it does (404). */
export class NotFoundError extends DomainError {}

/** The caller may see the thing but not do this to it (403). */
export class ForbiddenError extends DomainError {}

/** The request clashes with the current state: a duplicate id, a config job changed through the API (409). */
export class ConflictError extends DomainError {}

/** The input is well-formed JSON but names something invalid (400); `field` says which. */
export class InvalidInputError extends DomainError {
  constructor(readonly field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
  }
}

/**
 * No database connection could be had: the pool's `connectionTimeoutMillis` passed with every
 * connection busy, or the server refused or is gone. `cause` holds the driver's error.
 */
export class DatabaseUnavailableError extends DomainError {}

/** SQLSTATE codes the code reacts to; classify by code, never by message text. */
export const PgErrorCode = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
} as const;

/**
 * Whether a database error may pass if the statement is tried again: no SQLSTATE at all (the
 * connection failed: ECONNREFUSED, a pool timeout, "Connection terminated"), or the classes for
 * connection loss (08), transaction rollback (40), insufficient resources (53), operator
 * intervention such as a shutdown (57) and system errors (58). A syntax or data error (42, 22,
 * 23…) fails the same way every time.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return isTransientDatabaseError(error.cause);
  const code = pgErrorCode(error);
  if (code === undefined || SYSTEM_ERROR.test(code) || !SQLSTATE.test(code)) return true;
  return TRANSIENT_CLASSES.includes(code.slice(0, 2));
}

/**
 * Whether a request failed because the database cannot serve it just now, not because of the
 * request, so that the same request may pass later (503 with Retry-After): no connection to be
 * had, a connection lost during the statement (a system error code such as ECONNRESET), or a
 * transient SQLSTATE class (see isTransientDatabaseError). A statement error without any code
 * stays a bug (500): it may be the driver refusing a parameter. (One whose connection ended under
 * it arrives as a DatabaseUnavailableError: `Database` tells the two apart by the connection.)
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  // TypeORM wraps what a statement failed with as `driverError`: only those came from the database.
  const code = (error as { driverError?: { code?: unknown } } | null)?.driverError?.code;
  if (typeof code !== 'string') return false;
  return SYSTEM_ERROR.test(code) || (SQLSTATE.test(code) && TRANSIENT_CLASSES.includes(code.slice(0, 2)));
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
/** Node's system error codes (ECONNRESET, EPIPE…); no SQLSTATE class starts with E, so EPIPE is not one. */
const SYSTEM_ERROR = /^E[A-Z]+$/;
/** Connection loss (08), transaction rollback (40), insufficient resources (53), operator intervention (57), system errors (58). */
const TRANSIENT_CLASSES = ['08', '40', '53', '57', '58'];

export function pgErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown; driverError?: { code?: unknown } } | null)?.driverError?.code
    ?? (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
