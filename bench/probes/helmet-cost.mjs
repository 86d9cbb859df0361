/**
 * Probe: what helmet costs a request, made once (as `useHttpPlugins` does) against made for every
 * request (as @fastify/helmet 13 does), on a stand-in response that only records headers.
 *   node bench/probes/helmet-cost.mjs
 */
import helmet from 'helmet';

const response = { headers: {}, setHeader(name, value) { this.headers[name] = value; }, removeHeader(name) { delete this.headers[name]; } };
const request = {};
const once = helmet();

/** Microseconds per call of `fn`, after a warm-up. */
function perCall(fn, calls = 200_000) {
  for (let i = 0; i < 20_000; i++) fn();
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) fn();
  return Number(process.hrtime.bigint() - started) / calls / 1000;
}

const rounds = [1, 2, 3].map(() => ({
  madeEachRequestMicros: perCall(() => helmet()(request, response, () => undefined)),
  madeOnceMicros: perCall(() => once(request, response, () => undefined)),
}));
console.log(JSON.stringify(rounds.map((r) => ({ madeEachRequestMicros: Number(r.madeEachRequestMicros.toFixed(2)), madeOnceMicros: Number(r.madeOnceMicros.toFixed(2)) }))));
