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
  const code = pgErrorCode(error);
  if (code === undefined || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return ['08', '40', '53', '57', '58'].includes(code.slice(0, 2));
}

export function pgErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown; driverError?: { code?: unknown } } | null)?.driverError?.code
    ?? (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
