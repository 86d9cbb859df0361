// The embedded database in its own process: PGlite's ~700 MiB heap inside the daemon would make every
// spawn() fork that memory (DESIGN.md "Storage"). Forked by EmbeddedPostgres with an IPC channel:
//   node pglite-server.mjs --data-dir <dir> [--max-connections <n>]
// Serves PGlite on the Unix socket <dir>/.s.PGSQL.5432, answers { type: 'ready', socketDir } or
// { type: 'error', message }, and exits when the daemon goes away (IPC closed) or on SIGTERM/SIGINT.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler, PGLiteSocketServer } from '@electric-sql/pglite-socket';

const SOCKET_NAME = '.s.PGSQL.5432';
// An orphan that cannot close in time must still go, or it keeps the data directory locked.
const SHUTDOWN_DEADLINE_MS = 10_000;

// PGlite is WebAssembly, which V8 first runs as baseline code (Liftoff) and optimises function by
// function (TurboFan) once each has run for its budget (V8's default: ~1.8 MB of code executed).
// At that budget the functions claims and finishes need were optimised during the first burst of
// runs after a start: perf put over a quarter of the sidecar's CPU in the first drain of 1,000 runs
// in the optimising compiler, on background threads taking the cores the runs' children needed,
// and the rest ran as baseline code meanwhile. At a hundredth of it, what the start does (migrations,
// loading jobs, staging runs) has them optimised before the first instant. It costs about a second
// more CPU when PGlite creates a new data directory (initdb runs optimised too). Set before PGlite
// compiles; a V8 without the flag prints that it is unknown and goes on.
const WASM_TIERING_BUDGET = 18_000;
setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);

let db;
let server;
let starting;
let closing;

async function start(dataDir, maxConnections) {
  const pgdata = join(dataDir, 'pgdata');
  db = await PGlite.create(pgdata).catch((error) => {
    throw new Error(`PGlite cannot open ${pgdata}: ${describe(error)}`, { cause: error });
  });
  const path = join(dataDir, SOCKET_NAME);
  // A socket file left by a crashed sidecar makes listen() fail with EADDRINUSE; the daemon's
  // lock on the data directory guarantees no live sidecar owns it.
  await rm(path, { force: true });
  // pglite-socket's default is 1 connection; a pool needs more. They all share one backend session.
  server = new PGLiteSocketServer({ db, path, maxConnections });
  keepBatchesTogether(server.queryQueue);
  runMessagesTogether(PGLiteSocketHandler.prototype);
  await server.start();
  process.send({ type: 'ready', socketDir: dataDir });
}

// pglite-socket 0.2.17 queues every protocol message on its own. When one client's extended-query batch
// (Parse, Bind, Describe, Execute, Sync) arrives in two socket reads (a statement over ~64 KiB), another
// client's Parse or Bind runs in between, and a statement executes with the wrong parameters ("bind message
// supplies 2 parameters, but prepared statement requires 3"). Like pglite-socket keeps a transaction's
// messages together, this keeps a batch's messages together: after a queue entry ending in
// Parse/Bind/Describe/Execute/Close/Flush only the same client's entries run until its Sync. Patches
// internals of the exactly pinned version.
const BATCH_MESSAGE_TYPES = new Set([...'PBDECH'].map((letter) => letter.charCodeAt(0)));
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);
// Every client shares one session: a SET left by one (pg_dump sets search_path to '') would break the
// daemon's unqualified table names. When a client goes, its session settings go too.
const RESET_ALL = simpleQuery('RESET ALL');
const ignore = () => undefined;

/** A simple-query protocol message ('Q', length, SQL, NUL). */
function simpleQuery(sql) {
  const text = Buffer.from(`${sql}\0`);
  const message = Buffer.alloc(5 + text.length);
  message[0] = 0x51;
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return new Uint8Array(message);
}

function keepBatchesTogether(queue) {
  const original = { clearQueueForHandler: queue?.clearQueueForHandler };
  if (!Array.isArray(queue?.queue) || typeof original.clearQueueForHandler !== 'function' || typeof queue.processQueue !== 'function') {
    throw new Error('@electric-sql/pglite-socket internals changed: review keepBatchesTogether() in pglite-server.mjs');
  }
  let batchOwner = null;
  queue.processQueue = async function processQueue() {
    if (this.processing) return;
    this.processing = true;
    while (this.queue.length > 0) {
      const owner = batchOwner ?? (this.db.isInTransaction() ? this.lastHandlerId : null);
      const index = owner === null ? 0 : this.queue.findIndex((queued) => queued.handlerId === owner);
      if (index === -1) break; // the owner's next message has not arrived yet
      const [query] = this.queue.splice(index, 1);
      let bytes = 0;
      const onRawData = (data) => {
        bytes += data.length;
        query.onData(data);
      };
      try {
        await this.db.runExclusive(() => this.db.execProtocolRawStream(query.message, { onRawData }));
      } catch (error) {
        query.reject(error);
        continue;
      }
      this.lastHandlerId = query.handlerId;
      batchOwner = BATCH_MESSAGE_TYPES.has(lastMessageType(query.message)) ? query.handlerId : null;
      query.resolve(bytes);
    }
    this.processing = false;
  };
  queue.clearQueueForHandler = function clearQueueForHandler(handlerId) {
    original.clearQueueForHandler.call(this, handlerId);
    if (batchOwner === handlerId) {
      // A client gone mid-batch: end its batch with a Sync so the backend serves the others again.
      batchOwner = null;
      this.queue.unshift({ handlerId, message: SYNC, onData: ignore, resolve: ignore, reject: ignore });
    }
    this.queue.push({ handlerId, message: RESET_ALL, onData: ignore, resolve: ignore, reject: ignore });
    void this.processQueue();
  };
}

// pglite-socket 0.2.17 also runs each message through PGlite on its own, one queue entry, one
// `execProtocolRawStream` (with its locks and file-system sync) and one socket write per message: five of
// each for a statement with parameters. A batch read whole runs at once here, as PostgreSQL's own backend
// reads its input: the complete messages at hand up to and including a Sync or a simple Query go to PGlite
// in one call, and its answers to the socket in one write: a fifth to two fifths less of the sidecar's
// CPU per statement (docs/performance.md, item 38). A long message is joined once it is whole (item 40).
// Replaces `handleData` of the pinned version; the startup, SSL and cancel requests it handled are
// handled as it did.
const STARTUP_PROTOCOL_VERSION = 196608; // 3.0
const SYNC_TYPE = 0x53; // 'S'
const QUERY_TYPE = 0x51; // 'Q'
const TERMINATE_TYPE = 0x58; // 'X': goes alone, as pglite-socket passed it (PGlite's call looks for it in the first byte)
const NOTHING = Buffer.alloc(0);

/** The type byte of the last message in `messages` (complete messages, as queued); 0 for a startup message. */
function lastMessageType(messages) {
  if (messages[0] === 0) return 0;
  const view = Buffer.from(messages.buffer, messages.byteOffset, messages.length);
  for (let offset = 0; ; ) {
    const next = offset + 1 + view.readInt32BE(offset + 1);
    if (next >= view.length) return view[offset];
    offset = next;
  }
}

/**
 * How many bytes at the start of `buffer` to run together: a whole startup message alone, or the
 * complete messages up to and including the first Sync or Query (a Terminate alone); 0 while the first
 * message is incomplete.
 */
function batchLength(buffer) {
  if (buffer.length >= 8 && buffer.readInt32BE(4) === STARTUP_PROTOCOL_VERSION) {
    const length = buffer.readInt32BE(0);
    return buffer.length >= length ? length : 0;
  }
  let end = 0;
  while (end + 5 <= buffer.length) {
    const type = buffer[end];
    const next = end + 1 + buffer.readInt32BE(end + 1);
    if (next > buffer.length) break;
    if (type === TERMINATE_TYPE) return end === 0 ? next : end;
    end = next;
    if (type === SYNC_TYPE || type === QUERY_TYPE) break;
  }
  return end;
}

/** How long the regular message starting `buffer` is, when it is known and long enough to wait for whole; else 0. */
function longMessageLength(buffer) {
  if (buffer.length < 5 || buffer[0] === 0) return 0; // a startup message begins with its length's high byte, 0
  const length = 1 + buffer.readInt32BE(1);
  return length > 64 * 1024 ? length : 0;
}

function runMessagesTogether(handler) {
  if (typeof handler?.handleData !== 'function' || typeof handler.handleSslRequest !== 'function' || typeof handler.handleCancelRequest !== 'function') {
    throw new Error('@electric-sql/pglite-socket internals changed: review runMessagesTogether() in pglite-server.mjs');
  }
  handler.handleData = async function handleData(data) {
    if (!this.socket || !this.active) return;
    // A long message (a run's output, megabytes) arrives in reads of 64 KiB: its pieces are joined
    // once it is whole, not at every read (pglite-socket copied everything buffered at each one).
    const pieces = (this.pieces ??= []);
    pieces.push(data);
    this.piecesBytes = (this.piecesBytes ?? 0) + data.length;
    if (this.messageBuffer.length + this.piecesBytes < (this.bytesNeeded ?? 0)) return;
    this.messageBuffer = this.messageBuffer.length === 0 && pieces.length === 1 ? data : Buffer.concat([this.messageBuffer, ...pieces]);
    pieces.length = 0;
    this.piecesBytes = 0;
    this.bytesNeeded = 0;
    while (this.messageBuffer.length > 0) {
      if (this.handleSslRequest() || this.handleCancelRequest()) continue;
      const length = batchLength(this.messageBuffer);
      if (length === 0) {
        // The first message is incomplete; the rest comes with the next reads.
        this.bytesNeeded = longMessageLength(this.messageBuffer);
        return;
      }
      const batch = new Uint8Array(this.messageBuffer.subarray(0, length));
      // Not an empty view of what was read: that would keep a statement of megabytes alive while the connection idles.
      this.messageBuffer = length === this.messageBuffer.length ? NOTHING : this.messageBuffer.subarray(length);
      const socket = this.socket;
      if (!this.active || !socket) return;
      const answers = [];
      // PGlite hands its answer over in pieces of a buffer it reuses: each is copied as it comes.
      await this.queryQueue.enqueue(this.id, batch, (answer) => {
        if (answer.length > 0) answers.push(Buffer.from(answer));
      });
      if (answers.length === 0 || !socket.writable || !this.active) continue;
      // One write: a write error reaches the socket's 'error' listener, which pglite-socket handles.
      socket.cork();
      for (const answer of answers) socket.write(answer);
      socket.uncork();
    }
  };
}

/** Stops serving and closes PGlite so its data is flushed, then exits; safe to call twice. */
function shutdown(reason) {
  closing ??= (async () => {
    setTimeout(() => {
      console.error(`pglite-server: shutdown (${reason}) took over ${SHUTDOWN_DEADLINE_MS} ms, exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    let code = 0;
    try {
      await starting?.catch(() => undefined);
      await server?.stop();
      if (db && !db.closed) await db.close();
    } catch (error) {
      console.error(`pglite-server: shutdown (${reason}) failed:`, error);
      code = 1;
    }
    process.exit(code);
  })();
}

// PGlite's file system errors are Emscripten objects, not Errors: { name: 'ErrnoError', errno }.
function describe(error) {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'errno' in error) return `${error.name ?? 'error'} errno ${error.errno}`;
  return String(error);
}

function fail(error) {
  const message = describe(error);
  console.error('pglite-server: start failed:', error);
  if (!process.connected) process.exit(1);
  process.send({ type: 'error', message }, () => process.exit(1));
}

function readOptions() {
  const { values } = parseArgs({
    options: { 'data-dir': { type: 'string' }, 'max-connections': { type: 'string', default: '32' } },
  });
  const dataDir = values['data-dir'];
  const maxConnections = Number(values['max-connections']);
  if (!dataDir) throw new Error('--data-dir is required');
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new Error(`--max-connections must be a positive integer, got ${values['max-connections']}`);
  }
  return { dataDir, maxConnections };
}

if (!process.send) {
  console.error('pglite-server: must be forked with an IPC channel (it exits when that channel closes)');
  process.exit(2);
}
// The IPC channel closes when the daemon exits, including when it is killed with -9.
process.on('disconnect', () => shutdown('daemon went away'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
try {
  const { dataDir, maxConnections } = readOptions();
  starting = start(dataDir, maxConnections);
  await starting;
} catch (error) {
  if (!closing) fail(error);
}
