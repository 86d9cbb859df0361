/**
 * Scenario 5, three nodes: on PostgreSQL, the throughput scenario spread over three daemons on one
 * database (triggers sent to each in turn), warm as it is: total runs/s, and the share of runs each
 * node took.
 */
import { startDaemon } from '../lib/daemon.mjs';
import { row } from '../lib/report.mjs';
import { ratio, round } from '../lib/stats.mjs';
import { createStore } from '../lib/store.mjs';
import { triggerAndWait } from '../lib/trigger.mjs';
import { THROUGHPUT_YAML } from './throughput.mjs';

const NODES = 3;

export async function nodes(ctx) {
  if (!ctx.kinds.includes('postgres')) {
    return { result: { skipped: 'needs PostgreSQL: set DATABASE_URL' }, rows: [row('nodes', 'postgres', 'total runs/s, 3 nodes', null, '/s', { note: 'skipped: no DATABASE_URL' })] };
  }
  ctx.log(`nodes: ${ctx.sizes.runs} runs over ${NODES} daemons on postgres`);
  const store = await createStore('postgres', ctx.serverUrl);
  const daemons = [];
  let client = null;
  try {
    // One after the other: the first migrates, the others find the schema (and the advisory lock) ready.
    for (let i = 0; i < NODES; i++) daemons.push(await startDaemon(store, THROUGHPUT_YAML));
    client = await store.connect();
    const urls = daemons.map((daemon) => daemon.url);
    // Warm, as the single node of the throughput scenario is compared: a batch first, not counted.
    await triggerAndWait(client, urls, 'tp', ctx.sizes.runs);
    const measured = await triggerAndWait(client, urls, 'tp', ctx.sizes.runs);
    const { rows: shares } = await client.query(
      `SELECT n.pid, count(r.id)::int AS runs FROM cw_nodes n LEFT JOIN cw_runs r ON r.node_id = n.id AND r.id = ANY($1::uuid[])
       GROUP BY n.pid ORDER BY n.pid`,
      [measured.ids],
    );
    const single = ctx.results.throughput?.databases?.postgres?.perSecond ?? null;
    const result = {
      nodes: NODES,
      runs: measured.runs,
      seconds: round(measured.seconds, 2),
      perSecond: round(measured.perSecond),
      statuses: measured.statuses,
      triggerMs: measured.triggerMs,
      shares: shares.map((share) => ({ pid: share.pid, runs: share.runs, percent: round((share.runs / measured.runs) * 100) })),
      singleNodePerSecond: round(single),
    };
    const rows = [
      row('nodes', 'postgres', `total runs/s, ${NODES} nodes`, result.perSecond, '/s', { baseline: result.singleNodePerSecond, baselineLabel: '1 node', ratio: ratio(result.perSecond, single) }),
      row('nodes', 'postgres', 'share per node', result.shares.map((share) => `${share.percent}%`).join(' / '), ''),
    ];
    return { result, rows };
  } catch (error) {
    for (const daemon of daemons) error.message += `\n--- log of the daemon on port ${daemon.port} ---\n${await daemon.logTail(10)}`;
    throw error;
  } finally {
    await client?.end().catch(() => undefined);
    for (const daemon of daemons) await daemon.stop();
    await store.dispose();
  }
}
