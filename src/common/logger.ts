import { WinstonLogger } from 'nest-winston';
import winston from 'winston';
import type { LoggerService } from '@nestjs/common';

/**
 * nest-winston's logger, with lines below the configured level dropped before winston sees them.
 * Winston runs the logger's formats (timestamp, JSON) on every line and lets the transport drop it
 * only afterwards: at LOG_LEVEL=warn each run's info lines cost a timestamp and a JSON encoding for
 * nothing, about a twentieth of the daemon's CPU per triggered run.
 */
class LevelGatedLogger extends WinstonLogger {
  override log(message: unknown, context?: string): unknown {
    // An object message may name its own level, as nest-winston reads it.
    const level = (message !== null && typeof message === 'object' && (message as { level?: unknown }).level) || 'info';
    return typeof level !== 'string' || this.getWinstonLogger().isLevelEnabled(level) ? super.log(message, context) : undefined;
  }

  override warn(message: unknown, context?: string): unknown {
    return this.getWinstonLogger().isLevelEnabled('warn') ? super.warn(message, context) : undefined;
  }

  override debug(message: unknown, context?: string): unknown {
    return this.getWinstonLogger().isLevelEnabled('debug') ? super.debug!(message, context) : undefined;
  }

  override verbose(message: unknown, context?: string): unknown {
    return this.getWinstonLogger().isLevelEnabled('verbose') ? super.verbose!(message, context) : undefined;
  }
}

/**
 * The daemon's logger: JSON lines on stdout (journald and log shippers keep them), or a readable
 * line format when stdout is a terminal. Fields such as `jobId` and `runId` ride along. Errors are
 * always written.
 */
export function createLogger(level: string, pretty = process.stdout.isTTY === true): LoggerService {
  const format = pretty
    ? winston.format.combine(
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.colorize(),
        winston.format.printf(({ timestamp, level: lvl, message, context }) => `${timestamp} ${lvl} ${context ? `[${context}] ` : ''}${message}`),
      )
    : winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json());
  return new LevelGatedLogger(winston.createLogger({ level, format, transports: [new winston.transports.Console()] }));
}
