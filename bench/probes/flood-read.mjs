// The output flood without the database: the daemon's ProcessRunner (from dist/) reading children
// started by its spawner process into OutputCaptures with a 10 MiB cap, in this process. Per run:
// MiB/s, this process's CPU time, its RSS growth (VmHWM after − VmRSS before, the peak reset first)
// and the peak of memoryUsage().arrayBuffers, where the pipes' read buffers show. See
// docs/performance.md, the flood. `--children 100 --mib 10` is the scenario's second part.
//   node bench/probes/flood-read.mjs [--mib 1024] [--children 1] [--runs 3]
import '../../node_modules/reflect-metadata/Reflect.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '1024' }, children: { type: 'string', default: '1' }, runs: { type: 'string', default: '3' } } });
const [mib, children, runs] = [values.mib, values.children, values.runs].map(Number);
const MiB = 1024 * 1024;
const dist = (path) => import(new URL(`../../dist/${path}`, import.meta.url).href);
const { ProcessRunner } = await dist('executor/process-runner.js');
const { OutputCapture } = await dist('executor/output-capture.js');
const { ForkedSpawner } = await dist('executor/spawner.js');

const spawner = new ForkedSpawner();
spawner.onModuleInit();
const runner = new ProcessRunner(spawner);
const spec = { command: ['head', '-c', String(mib * MiB), '/dev/zero'], shell: false, cwd: '/', env: { PATH: process.env.PATH }, timeoutMs: 0, killGraceMs: 1_000, maxOutputBytes: 10 * MiB };
const statusMiB = (field) => Number(readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'))[1]) / 1024;
const round = (value) => Math.round(value * 10) / 10;

await runner.run({ ...spec, command: ['true'] });
for (let run = 0; run < runs; run++) {
  const rssBefore = statusMiB('VmRSS');
  writeFileSync('/proc/self/clear_refs', '5');
  let peakArrayBuffers = 0;
  const sampler = setInterval(() => (peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers)), 5);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: children }, () => runner.run(spec, { output: new OutputCapture(spec.maxOutputBytes) })));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  const bytes = results.reduce((sum, result) => sum + result.outputBytes, 0);
  console.log(JSON.stringify({
    run: run + 1,
    mibPerSecond: Math.round(bytes / MiB / seconds),
    cpuMs: Math.round((used.user + used.system) / 1000),
    rssGrowthMiB: round(statusMiB('VmHWM') - rssBefore),
    peakArrayBuffersMiB: round(peakArrayBuffers / MiB),
    complete: bytes === children * mib * MiB,
  }));
}
spawner.onApplicationShutdown();
