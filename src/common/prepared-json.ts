import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/**
 * A JSON answer serialised once and sent many times. `send` writes what `reply.send` would have
 * written for the value (the same bytes and Content-Type, with a weak ETag, and a 304 for a
 * matching If-None-Match through the ETag plugin) without serialising and hashing it again for
 * every request.
 */
export class PreparedJson {
  readonly body: Buffer;
  private readonly etag: string;

  constructor(text: string) {
    this.body = Buffer.from(text, 'utf8');
    // Set here, the ETag plugin takes it instead of hashing the body for each answer.
    this.etag = `W/"${createHash('sha1').update(this.body).digest('base64')}"`;
  }

  /** The JSON text (for tests and callers that want the value). */
  get text(): string {
    return this.body.toString('utf8');
  }

  send(reply: FastifyReply): void {
    reply.header('Content-Type', 'application/json; charset=utf-8').header('ETag', this.etag).send(this.body);
  }
}
