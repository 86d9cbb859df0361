import { WinstonModule } from 'nest-winston';
import winston from 'winston';
import type { LoggerService } from '@nestjs/common';

/**
 * The daemon's logger: JSON lines on stdout (journald and log shippers keep them), or a readable
 * line format when stdout is a terminal. Fields such as `jobId` and `runId` ride along.
 */
export function createLogger(level: string, pretty = process.stdout.isTTY === true): LoggerService {
  const format = pretty
    ? winston.format.combine(
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.colorize(),
        winston.format.printf(({ timestamp, level: lvl, message, context }) => `${timestamp} ${lvl} ${context ? `[${context}] ` : ''}${message}`),
      )
    : winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json());
  return WinstonModule.createLogger({ level, format, transports: [new winston.transports.Console()] });
}
