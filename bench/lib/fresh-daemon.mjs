/** One daemon on a store of its own, for one measurement, cleaned up whatever happens. */
import { startDaemon } from './daemon.mjs';
import { createStore } from './store.mjs';

/**
 * Creates a fresh store of `kind`, starts a daemon with `yaml` on it (reached through the counting
 * `proxy` when given), opens a `pg` client on the store and runs `work(daemon, client, store)`.
 * `daemon.setupMs` is the time from the call to ready, store included. With `timeSpawns`, the
 * daemon's own spawn() call times are added to the result as `daemonSpawnCalls`. A failure carries
 * the tail of the daemon's log.
 */
export async function withFreshDaemon(ctx, kind, { yaml, proxy = null, timeSpawns = false }, work) {
  const started = Date.now();
  const store = await createStore(kind, ctx.serverUrl);
  let daemon = null;
  let client = null;
  try {
    const env = proxy ? { DATABASE_URL: proxy.url(store.url) } : {};
    daemon = await startDaemon(store, yaml, { env, timeSpawns });
    daemon.setupMs = Date.now() - started;
    client = await store.connect();
    const result = await work(daemon, client, store).catch(async (error) => {
      error.message += `\n--- daemon log ---\n${await daemon.logTail()}`;
      throw error;
    });
    await client.end().catch(() => undefined);
    client = null;
    const spawnTimes = await daemon.stop();
    daemon = null;
    return spawnTimes ? { ...result, daemonSpawnCalls: spawnTimes } : result;
  } finally {
    await client?.end().catch(() => undefined);
    await daemon?.stop();
    await store.dispose();
  }
}
