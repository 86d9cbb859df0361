import type { OutputSnapshot } from './run-output.repository.js';

/**
 * Joins stored chunks into text. Bytes are joined before decoding, so a UTF-8 character split
 * across two chunks comes out whole; a marker line stands where the middle was dropped.
 */
export function renderOutput(snapshot: OutputSnapshot, droppedBytes: number): string {
  const head = Buffer.concat(snapshot.head.map((chunk) => chunk.data)).toString('utf8');
  if (droppedBytes === 0 && snapshot.tail.length === 0) return head;
  const tail = Buffer.concat(snapshot.tail.map((chunk) => chunk.data)).toString('utf8');
  const marker = droppedBytes > 0 ? `${head.endsWith('\n') || head === '' ? '' : '\n'}[cronwarden: ${droppedBytes} bytes of output dropped here]\n` : '';
  return head + marker + tail;
}
