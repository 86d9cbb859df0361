import { Command } from 'commander';
import type { NodeView } from '../nodes/nodes.view.js';
import { addApiOptions, clientFor, type ApiOptions } from './api-client.js';
import { printJson, printTable, relative } from './output.js';

/** `cronwarden nodes`: the daemons sharing the database, with their heartbeat and running runs (admin). */
export function nodesCommand(env: NodeJS.ProcessEnv): Command {
  return addApiOptions(new Command('nodes'))
    .description('the daemons sharing the database, with their heartbeat and running runs (admin)')
    .action(async (options: ApiOptions) => {
      const nodes = await clientFor(options, env).request<NodeView[]>('GET', '/api/cron/nodes');
      if (options.json) return printJson(nodes);
      printTable(['ID', 'HOST', 'PID', 'VERSION', 'STATUS', 'HEARTBEAT', 'RUNNING'], nodes.map((node) => [
        node.self ? `${node.id} *` : node.id, node.hostname, String(node.pid), node.version, node.status, relative(node.heartbeatAt),
        node.runningRuns.length === 0 ? '-' : node.runningRuns.map((run) => `${run.jobId}/${run.id}`).join(' '),
      ]), '(no nodes)');
      if (nodes.some((node) => node.self)) process.stdout.write('* the node that answered\n');
    });
}
