// A run's page: live output (stdout and stderr told apart), progress, cancel, and the final status.
import { api, streamEvents } from './api.js';
import { confirmAction, flash } from './actions.js';
import { duration, el, lateness, statusBadge, timeCell } from './format.js';

const ACTIVE = ['queued', 'running'];

function summary(run) {
  const pairs = [
    ['Job', el('a', { href: `#/jobs/${encodeURIComponent(run.jobId)}` }, run.jobId)], ['Status', statusBadge(run.status)],
    ['Trigger', `${run.trigger}${run.triggeredBy ? ` by ${run.triggeredBy}` : ''}`], ['Scheduled', timeCell(run.scheduledFor)],
    ['Started', timeCell(run.startedAt)], ['Late', lateness(run)], ['Duration', duration(run.durationMs)],
    ['Exit', run.exitCode ?? run.signal ?? '—'], ['Node', run.nodeId ?? '—'], ['Attempt', run.attempt],
  ];
  if (run.error) pairs.push(['Reason', run.error]);
  if (run.cancelRequestedBy) pairs.push(['Cancelled by', run.cancelRequestedBy]);
  if (run.parentRunId) pairs.push([run.trigger === 'retry' ? 'Retry of' : 'Follows', runLink(run.parentRunId, 'parent-run')]);
  if (run.retryRunId) pairs.push(['Retried as', runLink(run.retryRunId, 'retry-run')]);
  return el('dl', { class: 'facts' }, pairs.map(([name, value]) => [el('dt', {}, name), el('dd', {}, value)]));
}

function runLink(id, elementId) {
  return el('a', { href: `#/runs/${encodeURIComponent(id)}`, id: elementId }, id.slice(0, 8));
}

function endLine(run) {
  const how = run.exitCode !== null ? `exit ${run.exitCode}` : run.signal ?? run.error ?? '';
  return `Run ended: ${run.status.replace('_', ' ')}${how ? ` (${how})` : ''} after ${duration(run.durationMs)}.`;
}

/** Output pane that keeps the newest line in view unless the reader scrolled up to read. */
function outputPane() {
  const pre = el('pre', { class: 'output', id: 'output', tabindex: '0', 'aria-label': 'Output', 'aria-live': 'off' });
  return {
    pre,
    append(stream, text) {
      const nearBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
      pre.append(el('span', { class: stream }, text));
      if (nearBottom) pre.scrollTop = pre.scrollHeight;
    },
    note(text) { pre.append(el('span', { class: 'marker' }, `\n— ${text} —\n`)); },
  };
}

/** The progress bar and note the child last reported with a `::progress` line. */
function progressLine() {
  const bar = el('progress', { max: 100, id: 'progress', hidden: true });
  const note = el('span', { class: 'muted' });
  return {
    node: el('div', { class: 'progress-line' }, bar, ' ', note),
    update({ progress, note: text }) {
      bar.hidden = false;
      bar.value = progress;
      note.textContent = `${progress} %${text ? ` · ${text}` : ''}`;
    },
  };
}

async function cancelRun(id) {
  const answer = await confirmAction({ title: 'Cancel this run?', text: 'A running process gets SIGTERM, then SIGKILL after the grace time.', okLabel: 'Cancel run', withNote: true });
  if (!answer.ok) return;
  try {
    await api('POST', `/api/cron/runs/${id}/cancel`, answer.note ? { reason: answer.note } : {});
    flash('Cancel requested.');
  } catch (error) {
    flash(error.message, true);
  }
}

/** Renders one run's page and follows its output until it ends; returns the cleanup that stops the stream. */
export function runPage(view, id) {
  const abort = new AbortController();
  const cancel = el('button', { type: 'button', class: 'danger', id: 'cancel-run', hidden: true, onclick: () => cancelRun(id) }, 'Cancel run');
  const facts = el('section', { 'aria-label': 'Run' }, el('p', { class: 'muted' }, 'Loading…'));
  const final = el('p', { id: 'final', class: 'final', role: 'status' });
  const progress = progressLine();
  const pane = outputPane();
  view.append(el('div', { class: 'heading' }, el('h1', {}, `Run ${id.slice(0, 8)}`), cancel), el('p', { id: 'flash', class: 'flash', role: 'status' }), facts, progress.node,
    el('h2', {}, 'Output ', el('span', { class: 'legend' }, el('span', { class: 'stdout' }, 'stdout'), ' ', el('span', { class: 'stderr' }, 'stderr'))),
    pane.pre, final);

  let ended = false;
  function show(run) {
    // The first GET may answer after the stream's `end`: an older state never replaces the final one.
    if (ended && ACTIVE.includes(run.status)) return;
    ended = !ACTIVE.includes(run.status);
    facts.replaceChildren(summary(run));
    cancel.hidden = !ACTIVE.includes(run.status);
    if (!ACTIVE.includes(run.status)) final.textContent = endLine(run);
  }

  function onEvent(name, data) {
    if (name === 'run') show(data);
    else if (name === 'end') {
      show(data);
      // The run's own record names the retry queued when it ended, which the stream's run does not.
      api('GET', `/api/cron/runs/${id}`).then(show, () => undefined);
    }
    else if (name === 'output') pane.append(data.stream === 'stderr' ? 'stderr' : 'stdout', data.text);
    else if (name === 'progress') progress.update(data);
    else if (name === 'dropped') pane.note('output beyond the limit was dropped here');
  }

  api('GET', `/api/cron/runs/${id}`).then(show, (error) => facts.replaceChildren(el('p', { class: 'flash error' }, error.message)));
  streamEvents(`/api/cron/runs/${id}/output/stream`, onEvent, abort.signal).catch((error) => {
    if (!abort.signal.aborted) flash(`Live output stopped: ${error.message}`, true);
  });
  return () => abort.abort();
}
