import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import helmet from 'helmet';

/** Request bodies (JSON or form) larger than this are refused with 413. */
export const MAX_BODY_BYTES = 64 * 1024;

interface BodyParserHost {
  use(...handlers: unknown[]): unknown;
  useBodyParser?(type: string, rawBody?: boolean, options?: object): unknown;
}

/**
 * Hardens the HTTP layer while the app is being created: helmet's headers on every response, and
 * body parsers capped at 64 KiB. Registered before `app.init()` adds Nest's default parsers, which
 * Nest then skips (it adds a parser only if none of that kind is registered; see its "Body parser"
 * docs). A provider does this so every way of creating the app gets it.
 */
@Injectable()
export class HttpHardening {
  constructor(adapterHost: HttpAdapterHost) {
    const adapter = adapterHost.httpAdapter as unknown as BodyParserHost | undefined;
    // A testing module compiled without an HTTP application has nothing to harden.
    if (!adapter?.useBodyParser) return;
    adapter.use(helmet());
    adapter.useBodyParser('json', false, { limit: MAX_BODY_BYTES });
    adapter.useBodyParser('urlencoded', false, { limit: MAX_BODY_BYTES, extended: true });
  }
}
