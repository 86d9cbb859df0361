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

/** The last `n` lines of the text (a final newline does not start another line). */
export function tailLines(text: string, n: number): string {
  // Search from before a final newline, so "a\nb\n" is two lines, not three.
  let start = text.endsWith('\n') ? text.length - 1 : text.length;
  for (let lines = 0; lines < n; lines++) {
    // lastIndexOf reads a negative position as 0: at 0 there is no earlier line to find.
    start = start === 0 ? -1 : text.lastIndexOf('\n', start - 1);
    if (start < 0) return text;
  }
  return text.slice(start + 1);
}
