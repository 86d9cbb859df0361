// Create or edit a user job; the API validates, and its messages are shown beside the fields they name.
import { api } from './api.js';
import { el } from './format.js';

const TEXT_FIELDS = ['name', 'cron', 'timezone', 'every', 'catchupWindow', 'jitter'];

function field(name, label, control, hint) {
  control.id = `field-${name}`;
  control.name = name;
  return el('div', { class: 'field' }, el('label', { for: control.id }, label), control,
    hint ? el('small', { class: 'muted' }, hint) : null, el('small', { class: 'field-error', id: `error-${name}`, 'aria-live': 'polite' }));
}

const choice = (values, current) => el('select', {}, values.map((value) => el('option', { value, selected: value === current }, value)));

function controls(job, pipelines) {
  return {
    id: el('input', { value: job?.id ?? '', disabled: Boolean(job), autocomplete: 'off', placeholder: 'from the name if empty' }),
    name: el('input', { value: job?.name ?? '', autocomplete: 'off' }),
    pipeline: choice(pipelines, job?.pipeline),
    cron: el('input', { value: job?.cron ?? '', autocomplete: 'off', placeholder: '30 2 * * *' }),
    timezone: el('input', { value: job?.timezone ?? 'UTC', autocomplete: 'off' }),
    every: el('input', { value: job?.every ?? '', autocomplete: 'off', placeholder: '15m' }),
    params: el('textarea', { rows: 3, spellcheck: 'false' }, JSON.stringify(job?.params ?? {}, null, 2)),
    overlap: choice(['skip', 'queue', 'allow', 'replace'], job?.overlap ?? 'skip'),
    catchup: choice(['skip', 'once', 'all'], job?.catchup ?? 'once'),
    catchupWindow: el('input', { value: job?.catchupWindow ?? '6h', autocomplete: 'off' }),
    jitter: el('input', { value: job?.jitter ?? '0s', autocomplete: 'off' }),
  };
}

/** The request body from the form: empty text fields are left out, and exactly one of cron/every is sent. */
function bodyOf(inputs, creating) {
  const body = { pipeline: inputs.pipeline.value, overlap: inputs.overlap.value, catchup: inputs.catchup.value };
  if (creating && inputs.id.value.trim()) body.id = inputs.id.value.trim();
  for (const name of TEXT_FIELDS) if (inputs[name].value.trim()) body[name] = inputs[name].value.trim();
  if (body.cron && body.every) delete body.every;
  body.params = JSON.parse(inputs.params.value || '{}');
  return body;
}

/** Renders the create form (`id` null) or the edit form of job `id`. */
export function jobFormPage(view, id) {
  const status = el('p', { id: 'flash', class: 'flash', role: 'status' });
  view.append(el('h1', {}, id ? `Edit ${id}` : 'New job'), status);
  Promise.all([id ? api('GET', `/api/cron/jobs/${encodeURIComponent(id)}`) : null, api('GET', '/api/cron/pipelines')])
    .then(([job, pipelines]) => view.append(form(job, pipelines.map((pipeline) => pipeline.id), status)))
    .catch((error) => { status.textContent = error.message; status.className = 'flash error'; });
}

function form(job, pipelines, status) {
  const inputs = controls(job, pipelines);
  const submit = async (event) => {
    event.preventDefault();
    for (const node of document.querySelectorAll('.field-error')) node.textContent = '';
    let body;
    try {
      body = bodyOf(inputs, !job);
    } catch (error) {
      document.getElementById('error-params').textContent = `params: not JSON (${error.message})`;
      return;
    }
    try {
      const saved = job ? await api('PATCH', `/api/cron/jobs/${encodeURIComponent(job.id)}`, body) : await api('POST', '/api/cron/jobs', body);
      location.hash = `#/jobs/${encodeURIComponent(saved.id)}`;
    } catch (error) {
      status.textContent = error.message;
      status.className = 'flash error';
      for (const { field: name, message } of error.errors ?? []) {
        const slot = document.getElementById(`error-${name}`);
        if (slot) slot.textContent = message;
      }
    }
  };
  return el('form', { class: 'job-form', onsubmit: submit, novalidate: true },
    field('id', 'Id', inputs.id, 'a-z 0-9 _ -, up to 63'), field('name', 'Name', inputs.name), field('pipeline', 'Pipeline', inputs.pipeline),
    field('cron', 'Cron', inputs.cron, '5 fields, or 6 with seconds; or leave empty and give an interval'),
    field('timezone', 'Time zone', inputs.timezone), field('every', 'Every', inputs.every, 'an interval such as 30m or 5h'),
    field('params', 'Params (JSON object)', inputs.params), field('overlap', 'Overlap', inputs.overlap), field('catchup', 'Catch-up', inputs.catchup),
    field('catchupWindow', 'Catch-up window', inputs.catchupWindow), field('jitter', 'Jitter', inputs.jitter),
    el('div', { class: 'actions' }, el('a', { class: 'button secondary', href: job ? `#/jobs/${encodeURIComponent(job.id)}` : '#/jobs' }, 'Cancel'),
      el('button', { type: 'submit' }, job ? 'Save' : 'Create')));
}
