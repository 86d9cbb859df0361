import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { ConflictError, ForbiddenError, InvalidInputError, isDatabaseUnavailable, NotFoundError } from './errors.js';

const STATUS = new Map<Function, number>([
  [NotFoundError, HttpStatus.NOT_FOUND],
  [ForbiddenError, HttpStatus.FORBIDDEN],
  [ConflictError, HttpStatus.CONFLICT],
  [InvalidInputError, HttpStatus.BAD_REQUEST],
]);

/** What a 503 asks clients to wait: a busy pool frees up in seconds; a restarting server takes a few. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * The one place errors become HTTP: domain errors get their status and message, Nest's own
 * HTTP errors pass through, a database that cannot serve just now is a 503 with Retry-After,
 * anything else is a 500 whose details go to the log, not the client.
 */
@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) return;
    if (error instanceof HttpException) {
      const body = error.getResponse();
      response.status(error.getStatus()).json(typeof body === 'string' ? { statusCode: error.getStatus(), message: body } : body);
      return;
    }
    const status = error instanceof Error ? STATUS.get(error.constructor) : undefined;
    if (status !== undefined) {
      const field = error instanceof InvalidInputError ? { field: error.field } : {};
      response.status(status).json({ statusCode: status, message: (error as Error).message, ...field });
      return;
    }
    if (isDatabaseUnavailable(error)) {
      this.logger.warn(`answered 503, the database cannot serve now: ${(error as Error).message}`);
      response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      response.status(HttpStatus.SERVICE_UNAVAILABLE).json({
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        message: `the database is busy or unreachable; try again in ${RETRY_AFTER_SECONDS} s`,
      });
      return;
    }
    this.logger.error(`unhandled error: ${(error as Error)?.message}`, (error as Error)?.stack);
    response.status(500).json({ statusCode: 500, message: 'internal error; the daemon log has the details' });
  }
}
