import { DependencyUnavailableError, isPayError } from '@pay/core';
import {
  DATABASE_RETRY_AFTER_SECONDS,
  DatabaseUnavailableError,
  isConnectionLoss,
  isLostSocket,
  translateConnectionLoss,
} from './connection-loss.js';

/** An error as drizzle wraps a driver's: `Failed query` with the driver's error as its cause. */
function wrapped(cause: object): Error {
  return new Error('Failed query: insert into …', { cause });
}

function coded(code: string, message = 'driver error'): Error {
  return Object.assign(new Error(message), { code });
}

describe('a lost database connection', () => {
  it.each([
    ['postgres.js, the server closed the socket', coded('CONNECTION_CLOSED')],
    ['postgres.js, the pool destroyed the connection', coded('CONNECTION_DESTROYED')],
    ['a reset socket', coded('ECONNRESET')],
    ['a broken pipe', coded('EPIPE')],
    ['node-postgres, no code', new Error('Connection terminated unexpectedly')],
  ])('is a lost socket: %s', (_what, error) => {
    expect(isLostSocket(error)).toBe(true);
    expect(isLostSocket(wrapped(error))).toBe(true);
    expect(isConnectionLoss(wrapped(error))).toBe(true);
  });

  it.each([
    ['admin_shutdown (pg_terminate_backend)', '57P01'],
    ['crash_shutdown', '57P02'],
    ['cannot_connect_now', '57P03'],
    ['too_many_connections', '53300'],
    ['connection_exception', '08000'],
    ['connection_failure', '08006'],
    ['postgres.js connect timeout', 'CONNECT_TIMEOUT'],
    ['postgres.js pool ending', 'CONNECTION_ENDED'],
    ['refused', 'ECONNREFUSED'],
  ])('is a connection loss, not a lost socket: %s (%s)', (_what, code) => {
    expect(isConnectionLoss(wrapped(coded(code)))).toBe(true);
    expect(isLostSocket(wrapped(coded(code)))).toBe(false);
  });

  it.each([
    ['unique_violation', '23505'],
    ['serialization_failure', '40001'],
    ['check_violation', '23514'],
    ['query_canceled', '57014'],
  ])('is not what the server says about a statement: %s (%s)', (_what, code) => {
    expect(isConnectionLoss(wrapped(coded(code)))).toBe(false);
  });

  it('is not any other error', () => {
    expect(isConnectionLoss(new TypeError('x is undefined'))).toBe(false);
    expect(isConnectionLoss(undefined)).toBe(false);
    expect(isConnectionLoss('CONNECTION_CLOSED')).toBe(false);
  });

  it('becomes a retryable dependency_unavailable with a Retry-After and the driver code', () => {
    const cause = wrapped(coded('57P01', 'terminating connection due to administrator command'));
    const error = translateConnectionLoss(cause);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(isPayError(error) && error.code).toBe('dependency_unavailable');
    expect(error).toMatchObject({
      retryable: true,
      cause,
      context: { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS, databaseCode: '57P01' },
    });
    expect((error as Error).message).toMatch(/retry .* with the same Idempotency-Key/);
  });

  it('leaves every other error as it is, and a translated one untranslated twice', () => {
    const unique = wrapped(coded('23505'));
    expect(translateConnectionLoss(unique)).toBe(unique);
    const once = translateConnectionLoss(coded('CONNECTION_CLOSED'));
    expect(translateConnectionLoss(once)).toBe(once);
  });
});
