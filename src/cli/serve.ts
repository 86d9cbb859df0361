import { resolve } from 'node:path';
import { Command } from 'commander';

/** `cronwarden serve`: runs the daemon in the foreground, exactly as `node dist/main.js` (what systemd runs). */
export function serveCommand(env: NodeJS.ProcessEnv, cwd: string): Command {
  return new Command('serve')
    .description('run the daemon in the foreground (what systemd runs); SIGTERM stops it gracefully')
    .option('--config <file>', 'the config file (default: $CRONWARDEN_CONFIG or config/cronwarden.yaml)')
    .action(async (options: { config?: string }) => {
      // main.ts reads the config path from the environment, as systemd's unit sets it.
      if (options.config) env.CRONWARDEN_CONFIG = resolve(cwd, options.config);
      // main.ts starts the daemon when imported and owns the process from here: signals, exit codes.
      await import('../main.js');
    });
}
