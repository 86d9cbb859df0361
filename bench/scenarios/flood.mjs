/**
 * Scenario 3, output flood: one child writing `floodMiB` (1 GiB) to stdout with maxOutputBytes
 * 10 MiB, and 100 children writing 10 MiB each at once. MiB/s and the daemon's peak RSS growth
 * (VmHWM after − VmRSS before, the peak counter reset first), against the machine's raw pipe rate:
 * `head -c <size> /dev/zero | cat > /dev/null`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { configYaml, NEVER_CRON } from '../lib/config.mjs';
import { withFreshDaemon } from '../lib/fresh-daemon.mjs';
import { request, token } from '../lib/http.mjs';
import { memory, resetPeak, sampleRss } from '../lib/proc.mjs';
import { forEachKind } from '../lib/kinds.mjs';
import { atLeast, failedRow, lessOrEqual, row } from '../lib/report.mjs';
import { outcome, waitForEnded } from '../lib/runs.mjs';
import { MiB, ratio, round } from '../lib/stats.mjs';
import { triggerAndWait } from '../lib/trigger.mjs';

const RSS_LIMIT_MIB = 64;

export async function flood(ctx) {
  const { floodMiB, floodCapMiB, floodChildren, floodChildMiB } = ctx.sizes;
  const result = { floodMiB, capMiB: floodCapMiB, children: floodChildren, childMiB: floodChildMiB, databases: {} };
  const yaml = configYaml({
    daemon: { maxConcurrentRuns: Math.max(8, floodChildren) },
    pipelines: {
      big: { command: ['head', '-c', String(floodMiB * MiB), '/dev/zero'], maxOutputBytes: `${floodCapMiB}MiB`, timeout: '10m' },
      small: { command: ['head', '-c', String(floodChildMiB * MiB), '/dev/zero'], maxOutputBytes: `${floodCapMiB}MiB`, timeout: '10m' },
    },
    jobs: {
      flood_big: { pipeline: 'big', cron: NEVER_CRON, overlap: 'allow' },
      flood_small: { pipeline: 'small', cron: NEVER_CRON, overlap: 'allow' },
    },
  });
  const rows = [];
  const measuredByKind = await forEachKind(ctx, (kind) => {
    ctx.log(`flood: ${floodMiB} MiB, then ${floodChildren} × ${floodChildMiB} MiB on ${kind}`);
    return withFreshDaemon(ctx, kind, { yaml }, async (daemon, client) => ({
      rawPipe: await rawPipe(floodMiB),
      single: await singleFlood(daemon, client, floodMiB),
      many: await manyFloods(daemon, client, floodChildren, floodChildMiB),
    }));
  });
  ctx.kinds.forEach((kind, i) => {
    const measured = measuredByKind[i];
    const raw = measured.rawPipe;
    result.databases[kind] = measured;
    if (measured.error) return void rows.push(failedRow('flood', kind, measured.error));
    rows.push(row('flood', kind, `MiB/s, ${floodMiB} MiB, cap ${floodCapMiB} MiB`, measured.single.mibPerSecond, 'MiB/s', {
      baseline: raw.mibPerSecond, baselineLabel: 'pipe', ratio: ratio(measured.single.mibPerSecond, raw.mibPerSecond),
      target: atLeast(0.3, '≥ 0.3× pipe', 'ratio'),
    }));
    rows.push(row('flood', kind, `RSS growth, ${floodMiB} MiB`, measured.single.rssGrowthMiB, 'MiB', { target: lessOrEqual(RSS_LIMIT_MIB, `≤ ${RSS_LIMIT_MIB} MiB`) }));
    rows.push(row('flood', kind, `MiB/s, ${floodChildren} × ${floodChildMiB} MiB`, measured.many.mibPerSecond, 'MiB/s', {
      baseline: raw.mibPerSecond, baselineLabel: 'pipe', ratio: ratio(measured.many.mibPerSecond, raw.mibPerSecond),
    }));
    rows.push(row('flood', kind, `RSS growth, ${floodChildren} × ${floodChildMiB} MiB`, measured.many.rssGrowthMiB, 'MiB'));
  });
  return { result, rows };
}

/** One child writing `mib` MiB: its run time (spawn → exit, pipes drained) gives the rate. */
async function singleFlood(daemon, client, mib) {
  const watch = watchMemory(daemon.pid);
  const res = await request(daemon.url, 'POST', '/api/cron/jobs/flood_big/trigger', { bearer: token(), body: {} });
  if (res.status !== 202) throw new Error(`trigger answered ${res.status}: ${JSON.stringify(res.body)}`);
  await waitForEnded(client, 'id = $1', [res.body.id], 1, 600_000);
  const memoryUse = watch.stop();
  const { rows } = await client.query(
    `SELECT r.status, r.duration_ms, r.output_bytes, r.output_truncated,
            extract(epoch FROM r.finished_at - r.started_at) * 1000 AS end_to_end_ms,
            (SELECT coalesce(sum(octet_length(o.data)), 0) FROM cw_run_output o WHERE o.run_id = r.id) AS stored_bytes
     FROM cw_runs r WHERE r.id = $1`,
    [res.body.id],
  );
  const run = rows[0];
  return {
    status: run.status,
    durationMs: run.duration_ms,
    endToEndMs: round(Number(run.end_to_end_ms)),
    mibPerSecond: round(mib / (run.duration_ms / 1000)),
    outputBytes: Number(run.output_bytes),
    storedMiB: round(Number(run.stored_bytes) / MiB, 2),
    truncated: run.output_truncated,
    ...memoryUse,
  };
}

/** `children` runs writing `mib` MiB each, triggered together; the rate is all bytes over the whole span. */
async function manyFloods(daemon, client, children, mib) {
  const watch = watchMemory(daemon.pid);
  const measured = await triggerAndWait(client, [daemon.url], 'flood_small', children, { timeoutMs: 600_000 });
  const memoryUse = watch.stop();
  const ended = await outcome(client, 'id = ANY($1::uuid[])', [measured.ids]);
  const { rows } = await client.query(
    `SELECT coalesce(sum(octet_length(data)), 0) AS stored FROM cw_run_output WHERE run_id = ANY($1::uuid[])`,
    [measured.ids],
  );
  return {
    statuses: ended.statuses,
    seconds: round(measured.seconds, 2),
    mibPerSecond: round((children * mib) / measured.seconds),
    storedMiB: round(Number(rows[0].stored) / MiB, 1),
    ...memoryUse,
  };
}

/** Resets the daemon's peak RSS, then reports how far it rose above where it was (and the sampled peak). */
function watchMemory(pid) {
  const before = memory(pid).rssMiB;
  const peakReset = resetPeak(pid);
  const sampler = sampleRss(pid);
  return {
    stop() {
      const sampled = sampler.stop();
      const after = memory(pid);
      const peak = peakReset ? Math.max(after.hwmMiB, sampled) : sampled;
      return { rssBeforeMiB: round(before), rssPeakMiB: round(peak), rssGrowthMiB: round(peak - before), peakFrom: peakReset ? 'VmHWM' : 'sampled every 50 ms' };
    },
  };
}

/** The machine's pipe rate: `head -c <mib>M /dev/zero | cat > /dev/null`, best of two. */
async function rawPipe(mib) {
  let best = Infinity;
  for (let i = 0; i < 2; i++) {
    const started = performance.now();
    const child = spawn('/bin/sh', ['-c', `head -c ${mib * MiB} /dev/zero | cat > /dev/null`], { stdio: 'ignore' });
    const [code] = await once(child, 'exit');
    if (code !== 0) throw new Error(`the raw pipe baseline exited with ${code}`);
    best = Math.min(best, performance.now() - started);
  }
  return { ms: round(best), mibPerSecond: round(mib / (best / 1000)) };
}
