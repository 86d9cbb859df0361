// A job's page: what it is, its statistics, a chart of the last 50 runs and their history.
import { api } from './api.js';
import { jobButtons } from './actions.js';
import { cell, duration, el, lateness, relative, scheduleInWords, statusBadge, timeCell } from './format.js';
import { replaceRows } from './jobs.js';

const REFRESH_MS = 5000;
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  node.append(...children);
  return node;
}

/** Bars of duration over the last 50 runs, oldest first, coloured by outcome (with a text title each). */
export function outcomeChart(runs) {
  const shown = runs.slice(0, 50).reverse();
  const longest = Math.max(1, ...shown.map((run) => run.durationMs ?? 0));
  const width = 500, height = 80, step = width / 50;
  const bars = shown.map((run, index) => {
    const barHeight = Math.max(3, ((run.durationMs ?? 0) / longest) * (height - 4));
    const title = svg('title', {}, `${run.status} · ${duration(run.durationMs)} · ${run.queuedAt}`);
    return svg('rect', { x: index * step + 1, y: height - barHeight, width: step - 2, height: barHeight, class: `bar status-${run.status}` }, title);
  });
  const label = `Durations and outcomes of the last ${shown.length} runs; the longest took ${duration(longest)}.`;
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', class: 'chart', role: 'img', 'aria-label': label }, ...bars);
}

function runRow(run) {
  return el('tr', {},
    cell('Status', el('a', { href: `#/runs/${run.id}` }, statusBadge(run.status))),
    cell('Trigger', run.trigger),
    cell('Scheduled', timeCell(run.scheduledFor)),
    cell('Started', timeCell(run.startedAt)),
    cell('Late', lateness(run)),
    cell('Duration', duration(run.durationMs)),
    cell('Exit', run.exitCode ?? run.signal ?? '—'),
    cell('Node', run.nodeId ?? '—'));
}

function facts(job) {
  const stats = job.stats ?? {};
  const rate = typeof stats.successRate === 'number' ? `${Math.round(stats.successRate * 100)} %` : '—';
  const pairs = [
    ['Name', job.name], ['Schedule', scheduleInWords(job)], ['Expression', job.cron ?? job.every], ['Next run', job.paused ? 'paused' : relative(job.nextRunAt)],
    ['Pipeline', job.pipeline], ['Owner', `${job.owner} (${job.source})`], ['Overlap', job.overlap], ['Catch-up', `${job.catchup} within ${job.catchupWindow}`],
    ['Success rate', rate], ['p50 / p95', stats.durationMs ? `${duration(stats.durationMs.p50)} / ${duration(stats.durationMs.p95)}` : '—'],
  ];
  if (job.paused) pairs.push(['Paused', `by ${job.pausedBy ?? '?'}${job.pauseNote ? ` — ${job.pauseNote}` : ''}`]);
  return el('dl', { class: 'facts' }, pairs.map(([name, value]) => [el('dt', {}, name), el('dd', {}, value ?? '—')]));
}

/** Renders one job's page; returns the cleanup that stops its refresh. */
export function jobPage(view, id) {
  const head = el('div', { class: 'heading' }, el('h1', {}, id));
  const details = el('section', { 'aria-label': 'Job' }, el('p', { class: 'muted' }, 'Loading…'));
  const chart = el('figure', { class: 'chart-box' });
  const body = el('tbody');
  view.append(head, el('p', { id: 'flash', class: 'flash', role: 'status' }), details,
    el('h2', {}, 'Last 50 runs'), chart,
    el('table', { class: 'runs' }, el('thead', {}, el('tr', {}, ['Status', 'Trigger', 'Scheduled', 'Started', 'Late', 'Duration', 'Exit', 'Node'].map((name) => el('th', { scope: 'col' }, name)))), body));

  async function reload() {
    try {
      const path = `/api/cron/jobs/${encodeURIComponent(id)}`;
      const [job, runs] = await Promise.all([api('GET', path), api('GET', `${path}/runs?limit=50`)]);
      const edit = job.source === 'api' ? el('a', { class: 'button secondary', href: `#/jobs/${encodeURIComponent(id)}/edit` }, 'Edit') : null;
      head.replaceChildren(el('h1', {}, job.id), el('span', { class: 'buttons' }, edit, jobButtons(job, reload)));
      details.replaceChildren(facts(job));
      chart.replaceChildren(outcomeChart(runs.items), el('figcaption', { class: 'muted' }, 'Bar height: duration; colour: outcome. Oldest on the left.'));
      replaceRows(body, runs.items.map(runRow));
    } catch (error) {
      details.replaceChildren(el('p', { class: 'flash error' }, `Could not load ${id}: ${error.message}`));
    }
  }

  reload();
  const timer = setInterval(() => { if (!document.getElementById('confirm').open) reload(); }, REFRESH_MS);
  return () => clearInterval(timer);
}
