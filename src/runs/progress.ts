/** What a run last reported with a `::progress <0-100> [note]` line on stdout. */
export interface Progress {
  progress: number;
  note: string | null;
}

const PROGRESS_LINE = /^::progress[ \t]+(\d{1,3}(?:\.\d+)?)%?(?:[ \t]+(.*?))?[ \t]*\r?$/;
const MAX_NOTE = 200;

/** The progress a line reports, or null when it is not a progress line (or out of 0..100). */
export function parseProgressLine(line: string): Progress | null {
  const match = PROGRESS_LINE.exec(line);
  if (!match) return null;
  const value = Number(match[1]);
  if (value > 100) return null;
  const note = match[2] ? match[2].slice(0, MAX_NOTE) : null;
  return { progress: Math.round(value), note };
}

/** The last progress line in the text, or null. */
export function lastProgress(text: string): Progress | null {
  let end = text.length;
  while (end > 0) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    const found = parseProgressLine(text.slice(start, end));
    if (found) return found;
    end = start - 1;
  }
  return null;
}

/** Follows progress lines in stdout text that arrives in pieces (a line may be split across them). */
export class ProgressTracker {
  private partial = '';
  private current: Progress | null = null;

  get value(): Progress | null {
    return this.current;
  }

  /** Feeds more stdout; returns each progress a complete line changed, in order (usually none or one). */
  write(text: string): Progress[] {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    // A line longer than any progress line is not one: drop the buffer so it cannot grow without bound.
    if (this.partial.length > 16 + MAX_NOTE * 4) this.partial = '';
    const changes: Progress[] = [];
    for (const line of lines) {
      const found = parseProgressLine(line);
      if (found && (found.progress !== this.current?.progress || found.note !== this.current?.note)) changes.push((this.current = found));
    }
    return changes;
  }
}
