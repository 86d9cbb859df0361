// What computing next fires with croner costs when the expressions differ (as 100,000 users' jobs do):
// construction, nextRun(), and heap per instance, for the scale scenario's weekly expressions.
//   node bench/probes/croner-cost.mjs [--count 7200]
import { parseArgs } from 'node:util';
import { Cron } from 'croner';
import { scaleCron } from '../lib/config.mjs';

const { values } = parseArgs({ options: { count: { type: 'string', default: '7200' } } });
const count = Number(values.count);
// The expressions of the scale scenario (bench/scenarios/scale.mjs): 7,200 distinct ones, repeating.
const expressions = Array.from({ length: count }, (_, j) => scaleCron(j + 1));

const heapBefore = process.memoryUsage().heapUsed;
let started = performance.now();
const crons = expressions.map((expression) => new Cron(expression, { timezone: 'UTC', paused: true }));
const constructMs = performance.now() - started;
const heapPerCronKiB = (process.memoryUsage().heapUsed - heapBefore) / count / 1024;
const from = new Date();
started = performance.now();
for (const cron of crons) cron.nextRun(from);
const nextRunMs = performance.now() - started;

const us = (ms) => `${((ms / count) * 1000).toFixed(0)} µs`;
console.log(`${count} distinct expressions: new Cron() ${us(constructMs)}, nextRun() ${us(nextRunMs)}, heap ${heapPerCronKiB.toFixed(0)} KiB per instance`);
console.log(`100,000 jobs at that rate: ${(((constructMs + nextRunMs) / count) * 100_000 / 1000).toFixed(1)} s of CPU to compute every next fire once`);
