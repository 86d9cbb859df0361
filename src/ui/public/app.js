// Entry point: sign-in by pasted token, the header, and a hash router (#/jobs, #/jobs/:id, #/runs/:id, #/nodes).
import { session } from './api.js';
import { el } from './format.js';
import { jobFormPage } from './form.js';
import { jobPage } from './job.js';
import { jobsPage } from './jobs.js';
import { nodesPage } from './nodes.js';
import { runPage } from './run.js';

const view = document.getElementById('view');
let cleanup = () => undefined;

const ROUTES = [
  [/^#\/jobs\/new$/, () => jobFormPage(view, null)],
  [/^#\/jobs\/([^/?]+)\/edit$/, (id) => jobFormPage(view, decodeURIComponent(id))],
  [/^#\/jobs\/([^/?]+)$/, (id) => jobPage(view, decodeURIComponent(id))],
  [/^#\/runs\/([^/?]+)$/, (id) => runPage(view, id)],
  [/^#\/nodes$/, () => nodesPage(view)],
  [/^#\/jobs(\?.*)?$/, () => jobsPage(view)],
];

function signInPage(reason) {
  const input = el('textarea', { id: 'token', name: 'token', rows: 4, required: true, autocomplete: 'off', spellcheck: 'false' });
  const form = el('form', { class: 'sign-in', onsubmit: (event) => {
    event.preventDefault();
    session.signIn(input.value);
    route();
  } },
  el('h1', {}, 'Sign in'),
  el('p', {}, 'Paste a token (a JWT with the role user or admin). It stays in this tab only and is sent with each API call.'),
  reason ? el('p', { class: 'flash error', role: 'alert' }, reason) : null,
  el('label', { for: 'token' }, 'Token'), input,
  el('button', { type: 'submit' }, 'Sign in'));
  view.append(form);
  input.focus();
  return () => undefined;
}

function header(signedIn) {
  document.getElementById('nav').hidden = !signedIn;
  if (!signedIn) return;
  const { sub, roles } = session.claims();
  document.getElementById('who').textContent = `${sub} (${roles.join(', ') || 'no role'})`;
  document.getElementById('nav-nodes').hidden = !roles.includes('admin');
  for (const link of document.querySelectorAll('#nav a')) {
    link.toggleAttribute('aria-current', location.hash.startsWith(link.getAttribute('href')));
  }
}

/** Shows the page the hash names (or the sign-in form), stopping the previous page's timers and streams. */
function route(reason) {
  cleanup();
  view.replaceChildren();
  const signedIn = Boolean(session.token);
  header(signedIn);
  if (!signedIn) {
    cleanup = signInPage(reason);
    return;
  }
  const hash = location.hash || '#/jobs';
  for (const [pattern, render] of ROUTES) {
    const match = hash.match(pattern);
    if (match) {
      cleanup = render(...match.slice(1)) ?? (() => undefined);
      return;
    }
  }
  view.append(el('h1', {}, 'Not found'), el('p', {}, el('a', { href: '#/jobs' }, 'Back to the jobs')));
  cleanup = () => undefined;
}

document.getElementById('sign-out').addEventListener('click', () => {
  session.signOut();
  route();
});
window.addEventListener('cw:signed-out', (event) => route(`Signed out: ${event.detail ?? 'the token was refused'}.`));
window.addEventListener('hashchange', () => {
  route();
  view.focus({ preventScroll: true });
});
route();
