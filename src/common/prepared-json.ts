import type { Response } from 'express';

/**
 * A JSON answer serialised once and sent many times. `send` writes what `res.json` would have
 * written for the value (the same bytes, Content-Type, Content-Length and ETag, and a 304 for a
 * matching If-None-Match) without serialising, encoding and hashing it again for every request.
 */
export class PreparedJson {
  readonly body: Buffer;
  /** The ETag of the body, made by the app's own ETag function the first time it is sent. */
  private etag: string | undefined;
  private etagMade = false;

  constructor(text: string) {
    this.body = Buffer.from(text, 'utf8');
  }

  /** The JSON text (for tests and callers that want the value). */
  get text(): string {
    return this.body.toString('utf8');
  }

  send(response: Response): void {
    if (!this.etagMade) {
      const etagFn = response.app.get('etag fn') as ((body: Buffer, encoding?: string) => string | undefined) | undefined;
      this.etag = typeof etagFn === 'function' ? etagFn(this.body) : undefined;
      this.etagMade = true;
    }
    // In the order res.json sets them: the type, the length, then the tag.
    response.set('Content-Type', 'application/json; charset=utf-8');
    response.set('Content-Length', String(this.body.length));
    if (this.etag) response.set('ETag', this.etag);
    response.send(this.body);
  }
}
