// Small pure helpers: building elements safely (text, never HTML) and saying times in words.

/** Creates an element; `attrs` keys starting with "on" become listeners; children are nodes or text. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A table cell labelled for the phone layout; one wrapper keeps its content in one grid column there. */
export function cell(label, ...children) {
  return el('td', { 'data-label': label }, el('div', {}, ...children));
}

const UNIT_WORDS = { d: 'day', h: 'hour', m: 'minute', s: 'second', ms: 'millisecond' };

/** "5h" → "every 5 hours"; "1h30m" → "every 1 hour 30 minutes". */
export function everyInWords(every) {
  const parts = [...every.matchAll(/(\d+)(ms|d|h|m|s)/g)].map(([, count, unit]) => `${count} ${UNIT_WORDS[unit]}${count === '1' ? '' : 's'}`);
  return parts.length === 0 ? `every ${every}` : `every ${parts.join(' ')}`;
}

/** A job's schedule as a sentence: cronstrue for cron (with the time zone), words for an interval. */
export function scheduleInWords(job) {
  if (job.every) return everyInWords(job.every);
  let words = job.cron;
  try {
    words = globalThis.cronstrue.toString(job.cron, { use24HourTimeFormat: true, verbose: false });
  } catch {
    // An expression cronstrue does not know stays as written; the API already validated it.
  }
  return `${words} ${job.timezone}`;
}

/** A duration in ms as "850 ms", "12.4 s", "3 min 20 s", "2 h 5 min". */
export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 1440) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return `${Math.floor(minutes / 1440)} d ${Math.floor((minutes % 1440) / 60)} h`;
}

/** How far an instant is from now: "in 4 min 10 s", "3 min 2 s ago". */
export function relative(iso, now = Date.now()) {
  if (!iso) return '—';
  const delta = new Date(iso).getTime() - now;
  const text = duration(Math.abs(delta)).replace(/\.\d s$/, ' s');
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

/** An instant in the reader's locale, with the full ISO time in a tooltip. */
export function timeCell(iso) {
  if (!iso) return '—';
  return el('time', { datetime: iso, title: iso }, new Date(iso).toLocaleString());
}

/** A status word as a coloured badge (the word stays, colour is only a hint). */
export function statusBadge(status) {
  return el('span', { class: `badge status-${status}` }, status.replace('_', ' '));
}

/** Lateness of a scheduled run: start minus the instant it was for. */
export function lateness(run) {
  if (!run.scheduledFor || !run.startedAt) return '—';
  return duration(Math.max(0, new Date(run.startedAt) - new Date(run.scheduledFor)));
}
