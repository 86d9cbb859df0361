import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import jwt from 'jsonwebtoken';
import { loadConfig } from '../../src/config/config.loader.js';
import type { CronwardenConfig } from '../../src/config/config.types.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { createPgliteDataDir, createTestDatabase, type TestDatabase, type TestDatabaseKind } from './databases.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const FIXTURES = resolve('test/fixtures');

/** A 6-field cron expression for one second of the day (UTC): fires at `at` and a day later. */
export const dailyAt = (at: Date): string => `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;

/** Where a test daemon keeps its data: a fresh database or data directory, reusable across restarts. */
export interface TestStore {
  kind: TestDatabaseKind;
  env: Record<string, string>;
  dispose(): Promise<void>;
}

export async function createTestStore(kind: TestDatabaseKind): Promise<TestStore> {
  if (kind === 'postgres') {
    const db: TestDatabase = await createTestDatabase('postgres');
    return { kind, env: { DATABASE_URL: db.url! }, dispose: () => db.drop() };
  }
  const dataDir = await createPgliteDataDir();
  return { kind, env: { CRONWARDEN_DATA_DIR: dataDir }, dispose: () => rm(dataDir, { recursive: true, force: true }) };
}

export interface TestDaemon {
  daemon: Daemon;
  config: CronwardenConfig;
  url: string;
  /** Stops the daemon and removes its config; once: a later call waits for the first. */
  close(): Promise<void>;
}

/** Starts a real daemon on 127.0.0.1 with a random port, the given YAML config and store. */
export async function startTestDaemon(store: TestStore, yaml: string, extraEnv: Record<string, string> = {}): Promise<TestDaemon> {
  const dir = await mkdtemp(join(tmpdir(), 'cw-config-'));
  const file = join(dir, 'cronwarden.yaml');
  await writeFile(file, yaml);
  const env = { JWT_SECRET: TEST_JWT_SECRET, PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error', ...store.env, ...extraEnv };
  const config = loadConfig({ file, env, cwd: process.cwd() });
  const daemon = await startDaemon({ config, env, host: '127.0.0.1', logger: testLogger(config.env.logLevel) });
  let closed: Promise<void> | undefined;
  return {
    daemon,
    config,
    url: daemon.url,
    // A test may stop its daemon early (before an instant, say); the describe block's afterAll closes it again.
    close: () => (closed ??= daemon.close().then(() => rm(dir, { recursive: true, force: true }))),
  };
}

/** A signed HS256 token for the test secret. */
export function token(sub: string, roles: string[] | string, options: jwt.SignOptions = { expiresIn: '1h' }): string {
  return jwt.sign({ sub, roles }, TEST_JWT_SECRET, { algorithm: 'HS256', ...options });
}

/** fetch against the daemon with a bearer token; returns status, headers and parsed body. */
export async function api(daemon: TestDaemon, method: string, path: string, options: { token?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(daemon.url + path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  const body = response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  return { status: response.status, headers: response.headers, body };
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Nest's console logger at the configured level (nest-winston is CommonJS and cannot load under Jest's ESM runtime). */
function testLogger(level: string): ConsoleLogger {
  const index = { error: 1, warn: 2, info: 3, debug: 4, verbose: 5 }[level] ?? 1;
  return new ConsoleLogger({ logLevels: LEVELS.slice(0, index + 1) });
}

/** A daemon started before a describe block's tests and stopped after them; `store` is where it keeps its data. */
export type UsedTestDaemon = TestDaemon & { readonly store: TestStore };

/**
 * Starts a daemon on a fresh store in beforeAll and stops it (and drops the store) in afterAll.
 * Call inside describe(); the handle reads through to the running daemon.
 */
export function useTestDaemon(kind: TestDatabaseKind, yaml: string, extraEnv: Record<string, string> = {}): UsedTestDaemon {
  let store: TestStore | undefined;
  let running: TestDaemon | undefined;
  const started = () => {
    if (!running || !store) throw new Error('the test daemon is not running (use it inside the tests of its describe block)');
    return { running, store };
  };
  beforeAll(async () => {
    store = await createTestStore(kind);
    running = await startTestDaemon(store, yaml, extraEnv);
  });
  afterAll(async () => {
    await running?.close();
    await store?.dispose();
  });
  return {
    get daemon() { return started().running.daemon; },
    get config() { return started().running.config; },
    get url() { return started().running.url; },
    get store() { return started().store; },
    close: () => started().running.close(),
  };
}
