import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import type { DynamicModule, NestApplicationOptions } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyEtag from '@fastify/etag';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyRequest, RawServerDefault } from 'fastify';
import helmet from 'helmet';
import { uiDirectory } from '../ui/ui-files.js';

type JsonParser = (request: FastifyRequest, body: Buffer, done: (error: Error | null, body?: unknown) => void) => void;

/** Request bodies (JSON or form) larger than this are refused with 413. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Node's own limit on receiving a whole request, which Fastify lifts (to none) unless given one: a slow client's request is dropped after it. */
export const REQUEST_TIMEOUT_MS = 300_000;

/**
 * The HTTP layer the API runs on: Nest on Fastify, whose request handling costs the daemon about
 * 0.2 ms less a request than express (docs/performance.md, ninth round). Routing stays as lenient
 * as express's, which clients may rely on: case-insensitive, a trailing slash ignored, and a path
 * parameter of any length the request line allows (Fastify answers 414 past 100 characters; an id
 * too long to exist is a 404, as any other unknown id). Connections stay open 72 s between
 * requests (Fastify's default, longer than a balancer's usual 60 s idle timeout, so the balancer
 * closes first); a request must arrive whole within `REQUEST_TIMEOUT_MS`, as under express.
 */
export function httpAdapter(): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: MAX_BODY_BYTES,
    requestTimeout: REQUEST_TIMEOUT_MS,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 16 * 1024 },
  });
}

/** Creates the daemon's app on `httpAdapter()` with the plugins of `useHttpPlugins`. */
export async function createHttpApp(module: DynamicModule, options: NestApplicationOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(module, httpAdapter(), options);
  await useHttpPlugins(app);
  return app;
}

/**
 * What every instance of the app gets before `init()` registers its routes: helmet's headers on
 * every answer (404s too: a root `onRequest` hook), weak ETags (and 304 to a matching
 * If-None-Match) as express made them, the dashboard's files through `reply.sendFile`, and JSON
 * bodies read as express read them (an empty one is `{}`, not a 400).
 */
export async function useHttpPlugins(app: NestFastifyApplication): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  // helmet itself, made once: @fastify/helmet 13 builds helmet's whole middleware again for every
  // request, its policy parsed each time (9–11 µs a request against 1.1–1.3; bench/probes/helmet-cost.mjs).
  const secure = helmet();
  fastify.addHook('onRequest', (request, reply, done) => secure(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined)));
  await app.register(fastifyEtag, { weak: true });
  await app.register(fastifyStatic, { root: uiDirectory(), serve: false });
  // Fastify's own parser, which takes the buffer as it takes a string (as Nest's default parser uses it).
  const parseJson = fastify.getDefaultJsonParser('error', 'error') as unknown as JsonParser;
  app.useBodyParser<RawServerDefault>('application/json', { bodyLimit: MAX_BODY_BYTES }, (request, body, done) => {
    if (body.length === 0) return done(null, {});
    parseJson(request, body, done);
  });
}

/** Request handling added to the Fastify instance as a module's middleware would be: before the routes. */
export interface HttpHook {
  addTo(fastify: FastifyInstance): void;
}

/**
 * Adds the hooks to the app's Fastify instance. Called from a module's `configure()`, which Nest
 * runs in `init()` before it registers the routes, for the daemon's app and a testing module's
 * alike (a provider's constructor runs before a testing module has its HTTP adapter). No-op in a
 * module compiled without an HTTP app.
 */
export function addHttpHooks(adapterHost: HttpAdapterHost, hooks: HttpHook[]): void {
  const fastify = adapterHost.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
  if (typeof fastify?.addHook !== 'function') return;
  for (const hook of hooks) hook.addTo(fastify);
}
