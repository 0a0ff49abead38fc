import type { Writable } from 'node:stream';
import type { Logger } from '@pay/core';
import winston from 'winston';
import type { LogLevel } from './config-schema.js';
import { isSecretKey, REDACTED, redactString, redactValue } from './redact.js';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The least severe level written; `info` by default. */
  readonly level?: LogLevel;
  /** Where JSON lines go; stdout by default. Tests pass a stream to read them back. */
  readonly stream?: Writable;
}

/**
 * A winston format that redacts every line: field names that hold secrets, secret-looking values
 * (Stripe keys, webhook secrets, pay API keys, URL passwords, bearer tokens) and card numbers, at any
 * depth. It runs last before JSON so fields added by children and formats are covered too.
 */
export const redactFormat = winston.format((info) => {
  // Only own string keys: winston keeps its bookkeeping under symbols, which must survive untouched.
  const record = info as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    record[key] = isSecretKey(key) ? REDACTED : redactValue(record[key]);
  }
  if (typeof info.message !== 'string') {
    info.message = redactString(String(info.message));
  }
  return info;
});

/**
 * A JSON-lines logger (timestamp, level, message, fields) implementing core's {@link Logger} port,
 * with {@link redactFormat} applied to every line.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const logger = winston.createLogger({
    level: options.level ?? 'info',
    format: winston.format.combine(winston.format.timestamp(), redactFormat(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stdout })],
  });
  return wrap(logger);
}

function wrap(logger: winston.Logger): Logger {
  return {
    debug: (message, fields) => void logger.debug(message, fields ?? {}),
    info: (message, fields) => void logger.info(message, fields ?? {}),
    warn: (message, fields) => void logger.warn(message, fields ?? {}),
    error: (message, fields) => void logger.error(message, fields ?? {}),
    child: (fields) => wrap(logger.child(fields)),
  };
}
