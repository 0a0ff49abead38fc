import {
  DependencyUnavailableError,
  IdempotencyKeyInUseError,
  InternalError,
  RateLimitedError,
} from '@pay/core';
import { DEPENDENCY_RETRY_AFTER_SECONDS, retryAfterOf } from './retry-after.js';

describe('retryAfterOf', () => {
  it('tells a client to wait and retry after every 503, even one that names no delay', () => {
    const lost = new DependencyUnavailableError('The database connection was lost; retry …');
    expect(retryAfterOf(lost)).toBe(String(DEPENDENCY_RETRY_AFTER_SECONDS));
  });

  it("keeps an error's own delay, rounded up to whole seconds", () => {
    const limited = new RateLimitedError('slow down', { context: { retryAfterSeconds: 2.1 } });
    expect(retryAfterOf(limited)).toBe('3');
    const busy = new IdempotencyKeyInUseError('running', { context: { retryAfterSeconds: 1 } });
    expect(retryAfterOf(busy)).toBe('1');
  });

  it('sends none for an error a retry cannot fix', () => {
    expect(retryAfterOf(new InternalError('bug'))).toBeUndefined();
  });
});
