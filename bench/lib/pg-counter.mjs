/**
 * A counting TCP proxy in front of PostgreSQL: it forwards bytes unchanged and reads the frontend
 * messages on the way, so a daemon pointed at it shows how many statements and round trips it
 * makes (the server here has no pg_stat_statements preloaded). A statement is a simple Query or an
 * extended-protocol Execute; a round trip is a simple Query or a Sync.
 */
import net from 'node:net';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** Starts the proxy on a free local port; `url(databaseUrl)` rewrites a URL to go through it. */
export async function startCounter(upstreamHost = '127.0.0.1', upstreamPort = 5432) {
  const counts = { statements: 0, roundTrips: 0, byStatement: new Map() };
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, upstreamHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    upstream.pipe(client);
    const reader = messageReader(counts);
    client.on('data', (data) => {
      reader(data);
      upstream.write(data);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url(databaseUrl) {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.href;
    },
    /** A copy of the counts so far: `{ statements, roundTrips, byStatement: { sql: n } }`. */
    snapshot: () => ({ statements: counts.statements, roundTrips: counts.roundTrips, byStatement: Object.fromEntries(counts.byStatement) }),
    close: () => {
      sockets.forEach((socket) => socket.destroy());
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A parser for one connection's frontend stream; the first message(s) have no type byte. */
function messageReader(counts) {
  let buffer = Buffer.alloc(0);
  let startup = true;
  // Prepared statements are parsed once and executed by name: Execute counts under the bound one's text.
  const connection = { named: new Map(), unnamed: '', bound: '' };
  return (data) => {
    buffer = buffer.length === 0 ? data : Buffer.concat([buffer, data]);
    for (;;) {
      if (startup) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        // After an SSL or GSS request (answered 'N' by a server without TLS) the real startup follows.
        startup = code === SSL_REQUEST || code === GSSENC_REQUEST;
        buffer = buffer.subarray(length);
        continue;
      }
      if (buffer.length < 5) return;
      const length = buffer.readInt32BE(1);
      if (buffer.length < length + 1) return;
      count(counts, connection, String.fromCharCode(buffer[0]), buffer.subarray(5, length + 1));
      buffer = buffer.subarray(length + 1);
    }
  };
}

function count(counts, connection, type, body) {
  const cstrings = (n) => {
    const strings = [];
    for (let at = 0; strings.length < n; ) {
      const end = body.indexOf(0, at);
      strings.push(body.toString('utf8', at, end));
      at = end + 1;
    }
    return strings;
  };
  if (type === 'Q') {
    counts.statements++;
    counts.roundTrips++;
    note(counts, cstrings(1)[0]);
  } else if (type === 'P') {
    // Parse: statement name, query text, …
    const [name, sql] = cstrings(2);
    if (name) connection.named.set(name, sql);
    else connection.unnamed = sql;
  } else if (type === 'B') {
    // Bind: portal name, statement name, …
    const [, statement] = cstrings(2);
    connection.bound = statement ? connection.named.get(statement) ?? `(statement ${statement})` : connection.unnamed;
  } else if (type === 'E') {
    counts.statements++;
    note(counts, connection.bound);
  } else if (type === 'S') {
    counts.roundTrips++;
  }
}

/** Groups statements by their first words, whitespace collapsed. */
function note(counts, sql) {
  const key = sql.replace(/\s+/g, ' ').trim().slice(0, 70);
  counts.byStatement.set(key, (counts.byStatement.get(key) ?? 0) + 1);
}
