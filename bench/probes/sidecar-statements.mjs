/**
 * Probe: what a statement costs the PGlite sidecar. Forks the sidecar (`dist/database/pglite-server.mjs`,
 * as the daemon does) on a fresh data directory, then runs `--statements` one-row UPDATEs with two
 * parameters through `pg` (Parse, Bind, Describe, Execute, Sync each), `--clients` at a time, three
 * times: statements a second and the sidecar's CPU per statement (from /proc), the first round
 * compiling PGlite's hot paths. Usage:
 *   node bench/probes/sidecar-statements.mjs [--statements 5000] [--clients 4]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { cpuSeconds } from '../lib/proc.mjs';

const { values } = parseArgs({ options: { statements: { type: 'string', default: '5000' }, clients: { type: 'string', default: '4' } } });
const count = Number(values.statements);
const clients = Number(values.clients);
const server = fileURLToPath(new URL('../../dist/database/pglite-server.mjs', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'cw-sidecar-probe-'));
const sidecar = fork(server, ['--data-dir', dataDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
try {
  await new Promise((resolve, reject) => sidecar.once('message', (m) => (m.type === 'ready' ? resolve() : reject(new Error(m.message)))));
  const pool = new pg.Pool({ host: dataDir, database: 'postgres', user: 'postgres', max: clients });
  await pool.query('CREATE TABLE probe (id int PRIMARY KEY, n int, note text)');
  await pool.query(`INSERT INTO probe SELECT i, 0, 'x' FROM generate_series(1, 1000) i`);
  const rounds = [];
  for (let round = 0; round < 3; round++) {
    const cpuBefore = cpuSeconds(sidecar.pid);
    const started = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: clients }, async () => {
      while (next < count) {
        const i = next++;
        await pool.query('UPDATE probe SET n = n + 1, note = $2 WHERE id = $1 RETURNING id, n', [(i % 1000) + 1, `statement ${i}`]);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    rounds.push({ perSecond: Math.round(count / seconds), sidecarCpuMicrosPerStatement: Math.round(((cpuSeconds(sidecar.pid) - cpuBefore) * 1e6) / count) });
  }
  await pool.end();
  console.log(JSON.stringify({ statements: count, clients, first: rounds[0], warm: rounds.slice(1) }));
} finally {
  sidecar.kill('SIGTERM');
  await new Promise((resolve) => (sidecar.exitCode === null ? sidecar.once('exit', resolve) : resolve()));
  rmSync(dataDir, { recursive: true, force: true });
}
