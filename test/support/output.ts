import type { OutputCapture } from '../../src/executor/output-capture.js';

/** What a capture holds, of one stream or both, as text in the order it was read. */
export const textOf = (output: OutputCapture, stream?: 'stdout' | 'stderr'): string =>
  Buffer.concat(output.chunks().filter((chunk) => !stream || chunk.stream === stream).map((chunk) => chunk.data)).toString();
