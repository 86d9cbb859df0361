/**
 * The command line's exit codes. With `--follow` the CLI exits with the run's own code instead,
 * so a failing pipeline fails the script that started it; the CLI's own failures always print one
 * `cronwarden: …` line on stderr first.
 */
export const EXIT = {
  usage: 1,
  api: 2,
  unreachable: 3,
  /** A bug in the CLI itself (sysexits EX_SOFTWARE). */
  internal: 70,
  /** EX_CONFIG, as the daemon uses for a bad configuration. */
  config: 78,
} as const;

/** An expected failure: its message is printed as one line on stderr and the process exits with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliError';
  }
}
