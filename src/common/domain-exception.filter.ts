import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
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
 * HTTP errors pass through, and so do Fastify's refusals of a request (a body too large, not
 * JSON, of a type no parser reads: 4xx with a `code` starting `FST_`), a database that cannot
 * serve just now is a 503 with Retry-After, anything else is a 500 whose details go to the log,
 * not the client.
 */
@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (reply.sent) return;
    // A route's own type (`@Header('Content-Type', 'text/plain…')`) does not fit its error answers.
    reply.type('application/json; charset=utf-8');
    if (error instanceof HttpException) {
      const body = error.getResponse();
      reply.status(error.getStatus()).send(typeof body === 'string' ? { statusCode: error.getStatus(), message: body } : body);
      return;
    }
    const refusal = requestRefusal(error);
    if (refusal) {
      reply.status(refusal.statusCode).send({ statusCode: refusal.statusCode, message: refusal.message });
      return;
    }
    const status = error instanceof Error ? STATUS.get(error.constructor) : undefined;
    if (status !== undefined) {
      const field = error instanceof InvalidInputError ? { field: error.field } : {};
      reply.status(status).send({ statusCode: status, message: (error as Error).message, ...field });
      return;
    }
    if (isDatabaseUnavailable(error)) {
      this.logger.warn(`answered 503, the database cannot serve now: ${(error as Error).message}`);
      reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
      reply.status(HttpStatus.SERVICE_UNAVAILABLE).send({
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        message: `the database is busy or unreachable; try again in ${RETRY_AFTER_SECONDS} s`,
      });
      return;
    }
    this.logger.error(`unhandled error: ${(error as Error)?.message}`, (error as Error)?.stack);
    reply.status(500).send({ statusCode: 500, message: 'internal error; the daemon log has the details' });
  }
}

/** Fastify's own refusal of a request before any handler ran (`FST_ERR_CTP_BODY_TOO_LARGE` is a 413), or null. */
function requestRefusal(error: unknown): { statusCode: number; message: string } | null {
  if (!(error instanceof Error)) return null;
  const { code, statusCode } = error as Error & { code?: unknown; statusCode?: unknown };
  if (typeof code !== 'string' || !code.startsWith('FST_')) return null;
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return null;
  return { statusCode, message: error.message };
}
