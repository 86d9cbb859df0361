/** A real daemon process for a scenario: `node dist/main.js` with a generated config and a store. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_JWT_SECRET, request } from './http.mjs';
import { childPids, childWith } from './proc.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist', 'main.js');
const SPAWN_TIMER = join(ROOT, 'bench', 'probes', 'spawn-timer.mjs');
// The flags npm start, the systemd unit and the image run the daemon with (src/common/node-flags.ts).
const { DAEMON_NODE_FLAGS } = await import(join(ROOT, 'dist', 'common', 'node-flags.js'));
let nodeFlags = [];

/** Node flags for every daemon started from now on, after the shipped ones, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile. */
export function setDaemonNodeFlags(flags) {
  nodeFlags = flags;
}

/**
 * Writes `yaml` to a temporary config file, starts the daemon on a free port and resolves once
 * `GET /health` answers 200. `readyMs` is the time from spawn to that answer. With `timeSpawns`,
 * `stop()` resolves the daemon's own spawn() call times (bench/probes/spawn-timer.mjs). With
 * CWB_KEEP_DAEMON_DIR set, `stop()` leaves the daemon's directory (config and log) for a look.
 */
export async function startDaemon(store, yaml, { readyTimeoutMs = 120_000, env: extraEnv = {}, timeSpawns = false } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'cwb-daemon-'));
  const configFile = join(dir, 'cronwarden.yaml');
  await writeFile(configFile, yaml);
  const port = await freePort();
  const logFile = join(dir, 'daemon.log');
  const log = createWriteStream(logFile);
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? dir,
    JWT_SECRET: BENCH_JWT_SECRET,
    PORT: String(port),
    CRONWARDEN_CONFIG: configFile,
    LOG_LEVEL: 'warn',
    ...(timeSpawns ? { CWB_SPAWN_TIMES: join(dir, 'spawn-times.json') } : {}),
    ...store.env,
    ...extraEnv,
  };
  const flags = [...DAEMON_NODE_FLAGS, ...nodeFlags, ...(timeSpawns ? ['--import', SPAWN_TIMER] : [])];
  const started = performance.now();
  const child = spawn(process.execPath, [...flags, MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const daemon = {
    pid: child.pid,
    url,
    port,
    logFile,
    readyMs: 0,
    /** The embedded database's sidecar process, if any. */
    sidecarPid: () => (store.kind === 'pglite' ? childWith(child.pid, 'pglite-server') : null),
    // It names itself by process.title; null against code from before the spawner process.
    spawnerPid: () => childWith(child.pid, 'cronwarden-spawner'),
    stop: () => stopDaemon(child, exited, dir, timeSpawns),
    logTail: (lines) => tail(logFile, lines),
  };
  try {
    await waitReady(url, child, readyTimeoutMs);
  } catch (error) {
    await daemon.stop();
    throw new Error(`${error.message}\n--- daemon log ---\n${await tail(logFile)}`);
  }
  daemon.readyMs = performance.now() - started;
  return daemon;
}

async function waitReady(url, child, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`daemon exited before it was ready (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    const status = await request(url, 'GET', '/health').then((res) => res.status, () => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`daemon not ready within ${timeoutMs} ms`);
}

/** SIGTERM, SIGKILL if it is still there after 30 s; removes its config directory; resolves the spawn times if asked. */
async function stopDaemon(child, exited, dir, timeSpawns) {
  // Its own children (the spawner process) write their spawn times as they exit: wait for them too.
  const helpers = timeSpawns ? childPids(child.pid) : [];
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
  for (const deadline = Date.now() + 5_000; helpers.some(isRunning) && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 50));
  const spawnTimes = timeSpawns ? await busiestSpawner(dir) : null;
  if (process.env.CWB_KEEP_DAEMON_DIR) process.stderr.write(`daemon files kept in ${dir}\n`);
  else await rm(dir, { recursive: true, force: true });
  return spawnTimes;
}

function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The spawn times of the process that started the runs (most calls): the daemon, or its spawner process. */
async function busiestSpawner(dir) {
  const files = (await readdir(dir)).filter((name) => name.startsWith('spawn-times.json.'));
  const all = await Promise.all(files.map((name) => readFile(join(dir, name), 'utf8').then(JSON.parse, () => null)));
  return all.filter(Boolean).sort((a, b) => b.calls - a.calls)[0] ?? null;
}

async function tail(file, lines = 30) {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
