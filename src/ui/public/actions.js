// Pause, resume and trigger, each behind a confirmation dialog; shared by the jobs list and a job's page.
import { api } from './api.js';
import { el } from './format.js';

/** Asks in the page's <dialog>; resolves `{ ok, note }`. The dialog traps focus and Esc cancels. */
export function confirmAction({ title, text, okLabel, withNote = false }) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  const note = document.getElementById('confirm-note');
  note.value = '';
  document.getElementById('confirm-note-label').hidden = !withNote;
  dialog.returnValue = 'cancel';
  dialog.showModal();
  (withNote ? note : document.getElementById('confirm-ok')).focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve({ ok: dialog.returnValue === 'ok', note: note.value.trim() }), { once: true });
  });
}

/** Shows a one-line outcome (or error) in the page's status line. */
export function flash(message, isError = false) {
  const line = document.getElementById('flash');
  if (!line) return;
  line.textContent = message;
  line.className = isError ? 'flash error' : 'flash';
}

async function pause(job, done) {
  const answer = await confirmAction({ title: `Pause ${job.id}?`, text: 'It keeps its schedule and history but does not fire until resumed.', okLabel: 'Pause', withNote: true });
  if (!answer.ok) return;
  await run(() => api('POST', `/api/cron/jobs/${encodeURIComponent(job.id)}/pause`, answer.note ? { note: answer.note } : {}), `Paused ${job.id}.`, done);
}

async function resume(job, done) {
  const answer = await confirmAction({ title: `Resume ${job.id}?`, text: 'It fires again from its next scheduled instant.', okLabel: 'Resume' });
  if (!answer.ok) return;
  await run(() => api('POST', `/api/cron/jobs/${encodeURIComponent(job.id)}/resume`), `Resumed ${job.id}.`, done);
}

async function trigger(job) {
  const answer = await confirmAction({ title: `Run ${job.id} now?`, text: 'A manual run is queued at once; you will watch its output.', okLabel: 'Run now' });
  if (!answer.ok) return;
  try {
    const queued = await api('POST', `/api/cron/jobs/${encodeURIComponent(job.id)}/trigger`, {});
    location.hash = `#/runs/${queued.id}`;
  } catch (error) {
    flash(`Could not trigger ${job.id}: ${error.message}`, true);
  }
}

async function run(call, message, done) {
  try {
    await call();
    flash(message);
    await done();
  } catch (error) {
    flash(error.message, true);
  }
}

/** The buttons for one job; `done` reloads what the page shows after a change. */
export function jobButtons(job, done) {
  const label = (verb) => `${verb} ${job.id}`;
  return el('span', { class: 'buttons' },
    job.paused
      ? el('button', { type: 'button', 'aria-label': label('Resume'), onclick: () => resume(job, done) }, 'Resume')
      : el('button', { type: 'button', class: 'secondary', 'aria-label': label('Pause'), onclick: () => pause(job, done) }, 'Pause'),
    el('button', { type: 'button', 'aria-label': label('Trigger'), onclick: () => trigger(job) }, 'Trigger'));
}
