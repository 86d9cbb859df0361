/**
 * Probe: what the executor's finish-and-claim statement costs the database, and whether it is planned
 * once or at every execution. Starts a fresh daemon, stops it (SIGSTOP) once ready, queues `--runs`
 * runs by SQL, then on one `pg` client claims `--batch` runs and repeatedly ends them while claiming
 * the next `--batch` (RunsRepository.endManyAndClaim, the statement the daemon sends in a drain), in
 * blocks of 100 after one uncounted: microseconds a statement (the blocks' median and slowest) (wall, one client: the database's time
 * and the round trip), and the prepared statement's generic and custom plans. Usage:
 *   node bench/probes/finish-claim-cost.mjs [--db pglite|postgres] [--batch 3] [--blocks 6] [--runs 20000]
 */
import { parseArgs } from 'node:util';
import { RunsRepository } from '../../dist/runs/runs.repository.js';
import { configYaml, NEVER_CRON, TRUE_PIPELINE } from '../lib/config.mjs';
import { withFreshDaemon } from '../lib/fresh-daemon.mjs';
import { queueRuns } from '../lib/runs.mjs';
import { percentile } from '../lib/stats.mjs';

const { values } = parseArgs({ options: { db: { type: 'string', default: 'pglite' }, batch: { type: 'string', default: '3' }, blocks: { type: 'string', default: '6' }, runs: { type: 'string', default: '20000' } } });
const batch = Number(values.batch);
const blocks = Number(values.blocks);
const BLOCK = 100;
if (Number(values.runs) < batch * BLOCK * (blocks + 2)) throw new Error(`--runs ${values.runs} is too few for ${blocks} blocks of ${BLOCK} claims of ${batch}`);
const ctx = { serverUrl: process.env.DATABASE_URL ?? null, daemonFlags: [], log: () => undefined };
const yaml = configYaml({ pipelines: { true: TRUE_PIPELINE }, jobs: [['probe', { pipeline: 'true', cron: NEVER_CRON }]] });

/** The repository, on a database that only records the statement it is sent (the daemon's own, not run). */
let sent;
const repository = new RunsRepository({ prepared: async (text, params) => ((sent = { text, params }), []) });
const FINISH = { status: 'succeeded', finishedAt: new Date(), durationMs: 5, exitCode: 0, signal: null, error: null, outputBytes: 0, outputDroppedBytes: 0, outputTruncated: false, pid: 4242, processStart: null };
// Code from before item 45 named it finishManyAndClaim (and returned the ended runs' rows).
const endManyAndClaim = (repository.endManyAndClaim ?? repository.finishManyAndClaim).bind(repository);

/** The statement and parameters `call` has the repository send. */
async function statementOf(call) {
  await call();
  return sent;
}

const result = await withFreshDaemon(ctx, values.db, { yaml }, async (daemon, client) => {
  process.kill(daemon.pid, 'SIGSTOP');
  try {
    const [{ id: nodeId }] = (await client.query('SELECT id FROM cw_nodes LIMIT 1')).rows;
    await queueRuns(client, 'probe', Number(values.runs), 'probe');
    const claim = await statementOf(() => repository.claimQueued(nodeId, batch));
    let running = (await client.query(claim.text, claim.params)).rows.map((row) => row.id);
    const msPerStatement = [];
    for (let block = 0; block <= blocks; block++) {
      const started = performance.now();
      for (let i = 0; i < BLOCK; i++) {
        const { text, params } = await statementOf(() => endManyAndClaim(running.map((runId) => ({ runId, finish: FINISH })), nodeId, batch));
        const { rows } = await client.query({ name: 'finish-and-claim', text, values: params });
        running = rows.filter((row) => row.claimed).map((row) => row.id);
        if (running.length !== batch) throw new Error(`claimed ${running.length} runs, not ${batch}`);
      }
      if (block > 0) msPerStatement.push((performance.now() - started) / BLOCK);
    }
    const [plans] = (await client.query(`SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = 'finish-and-claim'`)).rows;
    const micros = (ms) => Math.round(ms * 1000);
    return { microsPerStatement: { p50: micros(percentile(msPerStatement, 50)), max: micros(percentile(msPerStatement, 100)) }, plans };
  } finally {
    process.kill(daemon.pid, 'SIGCONT');
  }
});
console.log(JSON.stringify({ db: values.db, batch, ...result }));
