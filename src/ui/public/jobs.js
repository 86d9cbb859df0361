// The jobs list: schedule in words, next run, last run, paused state, actions, filters.
import { api } from './api.js';
import { jobButtons } from './actions.js';
import { cell, duration, el, relative, scheduleInWords, statusBadge } from './format.js';

const REFRESH_MS = 5000;
// A page of the list, so that thousands of jobs cost the daemon and the browser no more than this.
const PAGE_SIZE = 100;
const STATUSES = ['succeeded', 'failed', 'timed_out', 'cancelled', 'abandoned', 'running', 'queued'];

function filterForm(filters, apply) {
  const owner = el('input', { id: 'filter-owner', name: 'owner', value: filters.owner ?? '', autocomplete: 'off', placeholder: 'any' });
  const status = el('select', { id: 'filter-status', name: 'status' }, el('option', { value: '' }, 'any'), el('option', { value: 'never' }, 'never ran'),
    STATUSES.map((value) => el('option', { value, selected: filters.status === value }, value.replace('_', ' '))));
  const paused = el('select', { id: 'filter-paused', name: 'paused' }, el('option', { value: '' }, 'any'),
    el('option', { value: 'true', selected: filters.paused === 'true' }, 'paused'), el('option', { value: 'false', selected: filters.paused === 'false' }, 'active'));
  const form = el('form', { class: 'filters', role: 'search', onsubmit: (event) => { event.preventDefault(); apply(); } },
    el('label', {}, 'Owner ', owner), el('label', {}, 'Last run ', status), el('label', {}, 'State ', paused));
  for (const control of [status, paused]) control.addEventListener('change', apply);
  owner.addEventListener('change', apply);
  return { form, values: () => ({ owner: owner.value.trim(), status: status.value, paused: paused.value }) };
}

function jobRow(job, reload) {
  const last = job.lastRun;
  return el('tr', { 'data-job': job.id },
    cell('Job', el('a', { href: `#/jobs/${encodeURIComponent(job.id)}` }, job.id), el('div', { class: 'muted' }, job.name)),
    cell('Schedule', scheduleInWords(job)),
    cell('Next run', job.paused ? '—' : relative(job.nextRunAt)),
    cell('Last run', last
      ? [el('a', { href: `#/runs/${last.id}` }, statusBadge(last.status)), ' ', duration(last.durationMs)]
      : el('span', { class: 'muted' }, 'never')),
    cell('Paused', job.paused
      ? [el('span', { class: 'badge paused' }, 'paused'), job.pauseNote ? el('div', { class: 'note' }, job.pauseNote) : null]
      : el('span', { class: 'muted' }, 'active')),
    cell('Actions', jobButtons(job, reload)));
}

/** Renders the jobs page into `view`; returns the cleanup that stops its refresh. */
export function jobsPage(view) {
  const filters = Object.fromEntries(new URLSearchParams(location.hash.split('?')[1] ?? ''));
  const body = el('tbody');
  const summary = el('p', { class: 'muted summary' }, 'Loading…');
  // The cursor of each page shown so far (null: the first), so "Previous page" can go back.
  let cursors = [null];
  const turn = (change) => { change(); reload(); };
  const previous = el('button', { type: 'button', id: 'page-previous', class: 'secondary', hidden: true, onclick: () => turn(() => cursors.pop()) }, 'Previous page');
  const next = el('button', { type: 'button', id: 'page-next', class: 'secondary', hidden: true }, 'Next page');
  const { form, values } = filterForm(filters, () => turn(() => (cursors = [null])));
  view.append(
    el('div', { class: 'heading' }, el('h1', {}, 'Jobs'), el('a', { class: 'button', href: '#/jobs/new' }, 'New job')),
    el('p', { id: 'flash', class: 'flash', role: 'status' }),
    form, summary,
    el('table', { class: 'jobs' }, el('thead', {}, el('tr', {}, ['Job', 'Schedule', 'Next run', 'Last run', 'Paused', 'Actions'].map((name) => el('th', { scope: 'col' }, name)))), body),
    el('div', { class: 'buttons pager' }, previous, next));

  async function reload() {
    const { owner, status, paused } = values();
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (owner) query.set('owner', owner);
    if (paused) query.set('paused', paused);
    const cursor = cursors[cursors.length - 1];
    if (cursor) query.set('cursor', cursor);
    try {
      const { items: jobs, nextCursor } = await api('GET', `/api/cron/jobs?${query}`);
      const shown = jobs.filter((job) => !status || (status === 'never' ? !job.lastRun : job.lastRun?.status === status));
      replaceRows(body, shown.map((job) => jobRow(job, reload)));
      const paged = cursors.length > 1 || nextCursor;
      summary.textContent = `${shown.length} of ${jobs.length} jobs${paged ? ` on page ${cursors.length}` : ''} · refreshed ${new Date().toLocaleTimeString()}`;
      previous.hidden = cursors.length === 1;
      next.hidden = !nextCursor;
      next.onclick = () => turn(() => cursors.push(nextCursor));
    } catch (error) {
      summary.textContent = `Could not load jobs: ${error.message}`;
    }
  }

  reload();
  const timer = setInterval(() => { if (!document.getElementById('confirm').open) reload(); }, REFRESH_MS);
  return () => clearInterval(timer);
}

/** Swaps the rows in one go and puts keyboard focus back on the same button if it had it. */
export function replaceRows(body, rows) {
  const focused = body.contains(document.activeElement) ? document.activeElement.getAttribute('aria-label') : null;
  body.replaceChildren(...rows);
  if (focused) body.querySelector(`[aria-label="${CSS.escape(focused)}"]`)?.focus();
}
