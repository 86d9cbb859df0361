import 'reflect-metadata';
import { CONFIG_EXIT_CODE, ConfigError, loadConfig, resolveConfigPath } from './config/config.loader.js';
import { createLogger } from './common/logger.js';
import { missingNodeFlags } from './common/node-flags.js';
import { withLocalSecret } from './config/local-secret.js';
import { startDaemon } from './daemon.js';

/** `node dist/main.js`: load the config (exit 78 when it is wrong), start, stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const cwd = process.cwd();
  let config;
  let secretFile: string | null = null;
  try {
    const local = withLocalSecret(process.env, cwd);
    secretFile = local.file;
    config = loadConfig({ file: resolveConfigPath(process.env, cwd), env: local.env, cwd });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`cronwarden: invalid configuration\n${error.message}\n`);
    process.exit(CONFIG_EXIT_CODE);
  }
  const logger = createLogger(config.env.logLevel);
  const missing = missingNodeFlags();
  if (missing.length) logger.warn(`node was started without ${missing.join(' ')}: expect pauses of 35–50 ms in the first minute and after bursts of runs, which delay the instants they meet; start it as npm start and the systemd unit do: node ${missing.join(' ')} dist/main.js`, 'Daemon');
  if (secretFile) logger.warn(`JWT_SECRET is not set: tokens are checked against the generated secret in ${secretFile} (single node only); mint one with: npm run token`, 'Config');
  const daemon = await startDaemon({ config, env: process.env, logger, onFatal: () => process.exit(1) });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // Skip the rest of the grace: kill the runs now; close() still records them before exiting.
      logger.warn(`second ${signal}: killing running runs now`, 'Daemon');
      daemon.hurry();
      return;
    }
    stopping = true;
    daemon.close().then(
      () => process.exit(0),
      (error: Error) => {
        process.stderr.write(`cronwarden: shutdown failed: ${error.stack}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: Error) => {
  process.stderr.write(`cronwarden: failed to start: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
