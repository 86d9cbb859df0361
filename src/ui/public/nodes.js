// The nodes page (admin): each daemon sharing the database, its heartbeat age and running runs.
import { api } from './api.js';
import { cell, el, relative, statusBadge } from './format.js';
import { replaceRows } from './jobs.js';

const REFRESH_MS = 5000;

function nodeRow(node) {
  const runs = node.runningRuns.length === 0 ? el('span', { class: 'muted' }, 'none')
    : el('ul', { class: 'plain' }, node.runningRuns.map((run) => el('li', {}, el('a', { href: `#/runs/${run.id}` }, run.jobId), ` · ${run.trigger} · started ${relative(run.startedAt)}`)));
  return el('tr', {},
    cell('Node', node.id, node.self ? el('span', { class: 'muted' }, ' (this one)') : null),
    cell('Host', `${node.hostname} · pid ${node.pid} · v${node.version}`),
    cell('Status', statusBadge(node.status)),
    cell('Heartbeat', relative(node.heartbeatAt)),
    cell('Running', runs));
}

/** Renders the nodes page; returns the cleanup that stops its refresh. */
export function nodesPage(view) {
  const body = el('tbody');
  const summary = el('p', { class: 'muted summary' }, 'Loading…');
  view.append(el('div', { class: 'heading' }, el('h1', {}, 'Nodes')), summary,
    el('table', { class: 'nodes' }, el('thead', {}, el('tr', {}, ['Node', 'Host', 'Status', 'Heartbeat', 'Running'].map((name) => el('th', { scope: 'col' }, name)))), body));

  async function reload() {
    try {
      const nodes = await api('GET', '/api/cron/nodes');
      replaceRows(body, nodes.map(nodeRow));
      summary.textContent = `${nodes.filter((node) => node.status === 'alive').length} alive of ${nodes.length} · refreshed ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      summary.textContent = error.status === 403 ? 'Only admins may see the nodes.' : `Could not load nodes: ${error.message}`;
    }
  }

  reload();
  const timer = setInterval(reload, REFRESH_MS);
  return () => clearInterval(timer);
}
