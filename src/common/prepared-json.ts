import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { negotiate } from '@fastify/accept-negotiator';
import type { FastifyReply } from 'fastify';

const gzipAsync = promisify(gzip);

/** Bodies shorter than this go out as they are: compressing them gains less than a packet. */
export const GZIP_FROM_BYTES = 1024;

/** The encodings a prepared answer comes in, preferred first. */
const ENCODINGS = ['gzip', 'identity'];

/**
 * A JSON answer serialised once and sent many times. `send` writes what `reply.send` would have
 * written for the value (the same bytes and Content-Type, with a weak ETag, and a 304 for a
 * matching If-None-Match through the ETag plugin) without serialising and hashing it again for
 * every request. Made by `of`, a body of `GZIP_FROM_BYTES` or more is compressed once as well, and
 * goes out gzipped to a client whose Accept-Encoding takes gzip (browsers, fetch, curl
 * --compressed): a page of 100 jobs is ~48 kB of JSON and ~2 kB gzipped, a twentieth of the bytes
 * for the network to carry and the client to read (docs/performance.md, item 52).
 */
export class PreparedJson {
  readonly body: Buffer;
  /** `body` gzip-compressed, or null when it is sent only as it is. */
  readonly gzipped: Buffer | null;
  private readonly etag: string;

  /** Serialises `value`, and compresses it on zlib's thread pool (off the event loop) when it is long enough to gain. */
  static async of(value: unknown): Promise<PreparedJson> {
    const body = Buffer.from(JSON.stringify(value), 'utf8');
    return new PreparedJson(body, body.length >= GZIP_FROM_BYTES ? await gzipAsync(body) : null);
  }

  constructor(body: Buffer | string, gzipped: Buffer | null = null) {
    this.body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.gzipped = gzipped;
    // Set here, the ETag plugin takes it instead of hashing the body for each answer. Weak: the
    // gzipped answer is the same representation's bytes, encoded for the transfer.
    this.etag = `W/"${createHash('sha1').update(this.body).digest('base64')}"`;
  }

  /** The JSON text (for tests and callers that want the value). */
  get text(): string {
    return this.body.toString('utf8');
  }

  /** The memory it holds: the JSON and its compressed copy. */
  get byteLength(): number {
    return this.body.length + (this.gzipped?.length ?? 0);
  }

  send(reply: FastifyReply): void {
    reply.header('Content-Type', 'application/json; charset=utf-8').header('ETag', this.etag);
    if (this.gzipped === null) return void reply.send(this.body);
    const vary = reply.getHeader('Vary');
    reply.header('Vary', vary ? `${String(vary)}, Accept-Encoding` : 'Accept-Encoding');
    const accepted = reply.request.headers['accept-encoding'];
    if (accepted === undefined || negotiate(accepted, ENCODINGS) !== 'gzip') return void reply.send(this.body);
    reply.header('Content-Encoding', 'gzip').send(this.gzipped);
  }
}
