#!/usr/bin/env -S node --no-memory-reducer
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { CliError, EXIT } from './cli/cli-error.js';
import { configCommand } from './cli/config-check.js';
import { jobsCommand } from './cli/jobs.js';
import { migrateCommand } from './cli/migrate.js';
import { nodesCommand } from './cli/nodes.js';
import { runsCommand } from './cli/runs.js';
import { serveCommand } from './cli/serve.js';
import { tokenCommand } from './cli/token.js';

/** The `cronwarden` command line: run the daemon, check its config, mint tokens, and drive a running daemon's API. */
function program(env: NodeJS.ProcessEnv, cwd: string): Command {
  return new Command('cronwarden')
    .description('a scheduler daemon for recurring pipelines, and the command line to control it')
    .version(packageVersion(), '-V, --version')
    .addHelpText('after', `
A running daemon is reached at --url (default $CRONWARDEN_URL, else http://127.0.0.1:8000) with
--token (default $CRONWARDEN_TOKEN). Exit codes: 0 ok, 1 usage, 2 the API refused (401, 403,
404, 400), 3 the daemon or database is unreachable, 78 bad configuration; with --follow, the run's
own exit code.`)
    .showSuggestionAfterError()
    .addCommand(serveCommand(env, cwd))
    .addCommand(migrateCommand(env, cwd))
    .addCommand(configCommand(env, cwd))
    .addCommand(tokenCommand(env, cwd))
    .addCommand(jobsCommand(env))
    .addCommand(runsCommand(env))
    .addCommand(nodesCommand(env));
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** One line on stderr and the exit code for the kind of failure; a stack only for a bug in the CLI. */
function fail(error: unknown): void {
  if (error instanceof CliError) {
    process.stderr.write(`cronwarden: ${error.message}\n`);
    process.exitCode = error.exitCode;
    return;
  }
  process.stderr.write(`cronwarden: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = EXIT.internal;
}

// Usage errors exit 1 (commander's own code); everything else is decided by fail().
program(process.env, process.cwd()).parseAsync(process.argv).catch(fail);
