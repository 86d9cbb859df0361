/** Table rows, targets marked PASS/MISS, and the printed table. */

/**
 * One line of the table. `target` is `{ on: 'value' | 'ratio', op: '<=' | '>=', limit, text }`
 * or undefined; `status` is decided later by `judge` (smoke runs judge nothing).
 */
export function row(scenario, db, metric, value, unit, { baseline = null, baselineLabel = null, ratio = null, target, note } = {}) {
  return { scenario, db, metric, value, unit, baseline, baselineLabel, ratio, target: target ?? null, status: null, note: note ?? null };
}

/** The table line that stands for a database kind whose part of a scenario failed. */
export function failedRow(scenario, db, error) {
  return { ...row(scenario, db, 'failed', null, '', { note: error }), target: { on: 'value', op: '>=', limit: 0, text: 'no error' } };
}

/** Marks each row with a target PASS or MISS; '—' for rows without one, or all rows when `smoke`. */
export function judge(rows, smoke) {
  for (const line of rows) {
    if (!line.target || smoke) {
      line.status = '—';
      continue;
    }
    const measured = line.target.on === 'ratio' ? line.ratio : line.value;
    if (measured === null || measured === undefined) line.status = 'MISS';
    else line.status = (line.target.op === '<=' ? measured <= line.target.limit : measured >= line.target.limit) ? 'PASS' : 'MISS';
  }
  return rows;
}

const HEADER = ['scenario', 'db', 'metric', 'value', 'baseline', 'ratio', 'target', 'status'];

/** The rows as a fixed-width text table. */
export function formatTable(rows) {
  const cells = tableCells(rows);
  const widths = HEADER.map((title, column) => Math.max(title.length, ...cells.map((cell) => String(cell[column]).length)));
  const format = (cell) => cell.map((text, column) => String(text).padEnd(widths[column])).join('  ').trimEnd();
  return [format(HEADER), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.map(format)].join('\n');
}

/** The rows as a Markdown table (for docs/performance.md), notes included. */
export function formatMarkdown(rows) {
  const cells = tableCells(rows).map((cell, i) => [...cell, rows[i].note ?? '']);
  const line = (cell) => `| ${cell.map((text) => String(text).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line([...HEADER, 'note']), line([...HEADER, 'note'].map(() => '---')), ...cells.map(line)].join('\n');
}

function tableCells(rows) {
  return rows.map((line) => [
    line.scenario,
    line.db,
    line.metric,
    show(line.value, line.unit),
    line.baseline === null ? '' : `${show(line.baseline, line.unit)}${line.baselineLabel ? ` (${line.baselineLabel})` : ''}`,
    line.ratio === null ? '' : `${line.ratio}×`,
    line.target?.text ?? '',
    line.status ?? '',
  ]);
}

function show(value, unit) {
  if (value === null || value === undefined) return 'n/a';
  if (typeof value !== 'number') return String(value);
  const text = Math.abs(value) >= 100 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
  return unit ? `${text} ${unit}` : text;
}

/** An error for the log: its message (with any daemon log appended) and where it was thrown. */
export function describeError(error) {
  const frames = (error.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at ')).slice(0, 3);
  return [error.message, ...frames].join('\n');
}

export const lessOrEqual = (limit, text, on = 'value') => ({ on, op: '<=', limit, text });
export const atLeast = (limit, text, on = 'value') => ({ on, op: '>=', limit, text });
