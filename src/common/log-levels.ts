import winston from 'winston';

/** Whether a logger at the configured level (LOG_LEVEL) writes lines of `level`; winston's npm levels. */
export function logsAt(configured: string, level: 'info' | 'verbose'): boolean {
  const levels = winston.config.npm.levels;
  return (levels[configured] ?? levels.info) >= levels[level];
}
