/** A small HTTP client for the daemon's API: keep-alive sockets, JSON bodies, timed requests. */
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import jwt from 'jsonwebtoken';

export const BENCH_JWT_SECRET = 'cronwarden-bench-secret-0123456789-abcdefghijklmnop';

const agents = new Map();

/**
 * One keep-alive agent per source address. Clients of the bench connect from different loopback
 * addresses (127.0.0.x), as separate hosts would, so the daemon's per-address rate limit sees 50
 * clients as 50 clients rather than one.
 */
function agentFor(localAddress) {
  // Idle sockets are dropped after 4 s, before the daemon's 5 s keep-alive timeout closes them under us.
  if (!agents.has(localAddress)) agents.set(localAddress, new http.Agent({ keepAlive: true, maxSockets: 256, localAddress, timeout: 4_000 }));
  return agents.get(localAddress);
}

/** The loopback source address of client number `n` (127.0.0.10 and up). */
export function clientAddress(n) {
  return `127.0.${Math.floor((10 + n) / 250)}.${(10 + n) % 250}`;
}

/** An HS256 token for the bench secret: admin unless other roles are given. */
export function token(sub = 'bench', roles = ['admin']) {
  return jwt.sign({ sub, roles }, BENCH_JWT_SECRET, { algorithm: 'HS256', expiresIn: '6h' });
}

/**
 * One request from client number `client`; resolves `{ status, body, ms }` (body parsed when JSON;
 * with `discardBody`, `{ status, bytes, ms }`, the bytes as sent: gzipped when `acceptEncoding`
 * took it, which is otherwise decoded) and never rejects on an HTTP error status. Rejects
 * on a network error.
 */
export async function request(baseUrl, method, path, options = {}) {
  const started = performance.now();
  try {
    return await requestOnce(baseUrl, method, path, options);
  } catch (error) {
    // A kept-alive socket the server closed just as we reused it: the request never reached it (Node's
    // documented retry). The time counts from the first attempt: a stalled server must show.
    if (!(error.reusedSocket && error.code === 'ECONNRESET')) throw error;
    const retried = await requestOnce(baseUrl, method, path, options);
    return { ...retried, ms: performance.now() - started, retried: true };
  }
}

function requestOnce(baseUrl, method, path, { bearer, body, client = 0, discardBody = false, acceptEncoding }) {
  const url = new URL(path, baseUrl);
  const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
  const headers = {};
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (acceptEncoding) headers['accept-encoding'] = acceptEncoding;
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = payload.length;
  }
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: agentFor(clientAddress(client)) }, (res) => {
      if (discardBody) {
        // What a load generator does: count the bytes, keep none of them, parse nothing.
        let bytes = 0;
        res.on('data', (chunk) => (bytes += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes, ms: performance.now() - started }));
        res.on('error', reject);
        return;
      }
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const text = (res.headers['content-encoding'] === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8');
        const json = res.headers['content-type']?.includes('json');
        resolve({ status: res.statusCode, headers: res.headers, body: json && text ? JSON.parse(text) : text, ms: performance.now() - started });
      });
      res.on('error', reject);
    });
    req.on('error', (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
    req.end(payload ?? undefined);
  });
}

/**
 * Runs `work(i)` for i = 0 … count-1 with at most `concurrency` in flight; resolves the results in
 * order. A rejected work item rejects the whole batch after the ones in flight settle.
 */
export async function inParallel(count, concurrency, work) {
  const results = new Array(count);
  let next = 0;
  let failure = null;
  const worker = async () => {
    while (next < count && !failure) {
      const index = next++;
      try {
        results[index] = await work(index);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure) throw failure;
  return results;
}

/**
 * Keeps `clients` requests in flight for `durationMs`, each client sending its next request when
 * the previous one answered; `send(clientNumber)`. Resolves every request's `{ status, ms }`.
 */
export async function closedLoop(clients, durationMs, send) {
  const deadline = performance.now() + durationMs;
  const samples = [];
  const client = async (number) => {
    while (performance.now() < deadline) {
      try {
        const { status, ms } = await send(number);
        samples.push({ status, ms });
      } catch (error) {
        samples.push({ status: 0, ms: 0, error: error.message });
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, number) => client(number)));
  return samples;
}

/** Closes idle keep-alive sockets so the bench process can exit. */
export function closeConnections() {
  for (const agent of agents.values()) agent.destroy();
}
