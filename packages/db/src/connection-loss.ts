import { DependencyUnavailableError } from '@pay/core';

/*
 * A lost database connection (a restarted or failed-over server, `pg_terminate_backend`, a network cut)
 * is not a bug of pay's: the statement in flight failed, the server rolled its transaction back (or, if
 * the COMMIT itself was cut, may have committed it), and the same request sent again is safe because
 * every flow is idempotent by its key. So it is a typed, retryable DependencyUnavailableError: the API
 * answers 503 with `Retry-After`, workers log it and go on, and nothing crashes.
 */

/** How long a client should wait before retrying after a lost connection: the pool reconnects at once. */
export const DATABASE_RETRY_AFTER_SECONDS = 1;

/**
 * Error codes the drivers put on an error when the socket under a query went away: postgres.js's own
 * (`CONNECTION_CLOSED` when the server closed it, `CONNECTION_DESTROYED` when the pool was closed under
 * it) and Node's socket errors.
 */
const LOST_SOCKET_CODES: ReadonlySet<string> = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'ECONNRESET',
  'EPIPE',
]);

/** Codes of a connection that could not be (re)opened: also retryable, but no socket died mid-query. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  // postgres.js: the pool is closing (the process is shutting down).
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that ended or refused the session: admin_shutdown (57P01, what
 * `pg_terminate_backend` sends), crash_shutdown (57P02), cannot_connect_now (57P03, starting up or in
 * recovery), too_many_connections (53300). Class 08 (connection exception) is matched as a class.
 */
const SESSION_ENDED_STATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03', '53300']);

/** node-postgres says this (without a code) when the server closes the socket; kept for drivers like it. */
const TERMINATED_MESSAGE = /connection terminated unexpectedly/i;

function isObject(value: unknown): value is { code?: unknown; cause?: unknown; message?: unknown } {
  return typeof value === 'object' && value !== null;
}

/** Each error of `err`'s cause chain (drizzle wraps the driver's error), at most five deep. */
function* causeChain(err: unknown): Generator<{ code?: unknown; message?: unknown }> {
  for (let current: unknown = err, depth = 0; depth < 5 && isObject(current); depth++) {
    yield current;
    current = current.cause;
  }
}

/**
 * True when the socket under a query closed while the query was in flight: the driver rejected the
 * query without an answer from the server. What the statement did is unknown only if it was a COMMIT.
 */
export function isLostSocket(err: unknown): boolean {
  for (const e of causeChain(err)) {
    if (typeof e.code === 'string' && LOST_SOCKET_CODES.has(e.code)) {
      return true;
    }
    if (typeof e.message === 'string' && TERMINATED_MESSAGE.test(e.message)) {
      return true;
    }
  }
  return false;
}

/**
 * True when `err` says the database connection was lost or could not be had: a lost socket, an
 * unreachable server, a session the server ended (57P01/57P02/57P03/53300) or any connection exception
 * (SQLSTATE class 08). Such a failure says nothing about the request: the same one may succeed later.
 */
export function isConnectionLoss(err: unknown): boolean {
  if (isLostSocket(err)) {
    return true;
  }
  for (const e of causeChain(err)) {
    if (typeof e.code !== 'string') {
      continue;
    }
    if (UNREACHABLE_CODES.has(e.code) || SESSION_ENDED_STATES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code)) {
      return true;
    }
  }
  return false;
}

/**
 * The database connection was lost under a statement, or none could be opened. Retryable: send the same
 * request again, with the same Idempotency-Key, after `context.retryAfterSeconds`.
 */
export class DatabaseUnavailableError extends DependencyUnavailableError {
  constructor(cause: unknown) {
    const code = [...causeChain(cause)].map((e) => e.code).find((c) => typeof c === 'string');
    super('The database connection was lost; retry the request with the same Idempotency-Key.', {
      cause,
      context: {
        retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
        ...(typeof code === 'string' ? { databaseCode: code } : {}),
      },
    });
  }
}

/** `err` as a {@link DatabaseUnavailableError} when it is a lost connection; otherwise `err` itself. */
export function translateConnectionLoss(err: unknown): unknown {
  if (err instanceof DatabaseUnavailableError || !isConnectionLoss(err)) {
    return err;
  }
  return new DatabaseUnavailableError(err);
}
