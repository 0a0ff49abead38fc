/** Structured logging: a message and a bag of fields. Implementations redact secrets and card data. */
export interface Logger {
  /** Detail for following one flow step by step; hosts usually filter it out. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Something worth a line in normal operation: a state change, a job's pass, an ignored event. */
  info(message: string, fields?: Record<string, unknown>): void;
  /**
   * Something went wrong and pay handled it (a retry is scheduled, a request was refused): no one need act
   * yet.
   */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Something needs a person: a bug, or an event out of retries. */
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (a request id, a job name). */
  child(fields: Record<string, unknown>): Logger;
}

/** A logger that drops everything, for tests and libraries embedded without one. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
