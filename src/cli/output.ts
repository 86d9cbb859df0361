/** How the CLI shows things to people (aligned tables, short times) and to scripts (JSON). */

/** Prints `value` as indented JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints a table: a header row, then the rows, columns padded to their widest cell. */
export function printTable(headers: string[], rows: string[][], empty = '(none)'): void {
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  process.stdout.write(`${[headers, ...rows].map(line).join('\n')}\n`);
}

/** Prints `label: value` lines with the values aligned; `null` values are left out. */
export function printDetails(pairs: Array<[string, string | null]>): void {
  const shown = pairs.filter((pair): pair is [string, string] => pair[1] !== null);
  const width = Math.max(...shown.map(([label]) => label.length)) + 1;
  process.stdout.write(`${shown.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}`).join('\n')}\n`);
}

/** A duration for people: `850ms`, `12.3s`, `4m05s`, `2h10m`, `3d4h`. */
export function humanDuration(ms: number): string {
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs < 1_000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 60_000) return `${sign}${(abs / 1_000).toFixed(1)}s`;
  const seconds = Math.round(abs / 1_000);
  const [d, h, m, s] = [Math.floor(seconds / 86_400), Math.floor(seconds / 3_600) % 24, Math.floor(seconds / 60) % 60, seconds % 60];
  const two = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${sign}${d}d${h}h`;
  if (h > 0) return `${sign}${h}h${two(m)}m`;
  return `${sign}${m}m${two(s)}s`;
}

/** `in 4h59m` or `3m05s ago` from an ISO time; `-` when there is none. */
export function relative(iso: string | null, now = Date.now()): string {
  if (iso === null) return '-';
  const delta = Date.parse(iso) - now;
  if (Math.abs(delta) < 1_000) return 'now';
  return delta > 0 ? `in ${humanDuration(delta)}` : `${humanDuration(-delta)} ago`;
}

/** An ISO time with how long ago or ahead it is, for detail views. */
export function when(iso: string | null): string | null {
  return iso === null ? null : `${iso} (${relative(iso)})`;
}

/** Cuts `text` to `max` characters with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
