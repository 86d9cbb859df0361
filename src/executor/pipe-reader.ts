import { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** Node's biggest read from a pipe (its suggested size), and a Linux pipe's default capacity. */
export const PIPE_READ_BYTES = 64 * 1024;

/**
 * The one buffer every pipe is read into. Node reads one pipe at a time and hands each read to its
 * callback at once, which uses it before returning, so no read can land in it while another is used.
 */
let readBuffer: Buffer | undefined;

/** The parts of a net.Socket over a libuv stream that Node keeps private; see readPipe. */
interface SocketInternals {
  _handle: { useUserBuffer?: unknown } | null;
  _readableState: { ended: boolean };
}

/**
 * Reads `pipe` to its end, handing each read to `onRead` as a view of one buffer that the next
 * read, of this pipe or another, reuses: valid only during the call. Returns the stream to watch
 * for 'close' and to destroy, which may be a new Socket over the pipe's handle rather than `pipe`.
 *
 * A Socket's 'data' costs a fresh 64 KiB buffer per read: a child writing 1 GiB past its cap had
 * the daemon allocate, page in and collect 1 GiB to keep 10 MiB of it. Node reads into a buffer of
 * ours only when a Socket is made with `onread`, and the pipes arrive as Sockets already (from
 * spawn(), or made by the IPC channel that brought their handles), so the handle moves to a new
 * Socket: bytes the old one read already come first, then the old one is closed without its handle.
 * A stream that is no Socket over a handle, or that has seen its end, is read through 'data'.
 */
export function readPipe(pipe: Readable, onRead: (data: Buffer) => void): Readable {
  const internals = pipe as unknown as SocketInternals;
  if (!(pipe instanceof Socket) || pipe.destroyed || typeof internals._handle?.useUserBuffer !== 'function') {
    pipe.on('data', onRead);
    return pipe;
  }
  // The first pipe handed over by the spawner process is read while the second is on its way.
  for (let early: Buffer | null; (early = pipe.read() as Buffer | null) !== null; ) onRead(early);
  if (internals._readableState.ended) {
    // Its end was read too: nothing more will come, and the old Socket closes as it should.
    pipe.on('data', onRead);
    return pipe;
  }
  const buffer = (readBuffer ??= Buffer.allocUnsafe(PIPE_READ_BYTES));
  const reader = new Socket({
    handle: internals._handle,
    readable: true,
    writable: false,
    onread: { buffer, callback: (bytes: number) => void onRead(buffer.subarray(0, bytes)) },
  } as ConstructorParameters<typeof Socket>[0]);
  // A read error ends the pipe as its end does: 'close' follows, and the run has what was read.
  reader.on('error', () => undefined);
  internals._handle = null;
  pipe.destroy();
  return reader;
}
