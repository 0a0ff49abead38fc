import {
  DependencyUnavailableError,
  NotFoundError,
  ValidationError,
  assertNever,
  isPayError,
} from './errors.js';

describe('errors', () => {
  it('carry a stable code, the param at fault and whether a retry may help', () => {
    const err = new ValidationError('bad amount', { param: 'amount' });
    expect(err).toMatchObject({
      code: 'invalid_request',
      param: 'amount',
      retryable: false,
      name: 'ValidationError',
    });
    expect(new DependencyUnavailableError('stripe timed out').retryable).toBe(true);
  });

  it('are recognised across copies of the package by their brand, not by instanceof', () => {
    const foreign = Object.assign(Object.create(null) as object, {
      [Symbol.for('@pay/core/PayError')]: true,
    });
    expect(isPayError(new NotFoundError('gone'))).toBe(true);
    expect(isPayError(foreign)).toBe(true);
    expect(isPayError(new Error('plain'))).toBe(false);
    expect(isPayError(null)).toBe(false);
  });

  it('keep the cause they wrap', () => {
    const cause = new Error('socket hang up');
    expect(new DependencyUnavailableError('db down', { cause }).cause).toBe(cause);
  });

  it('assertNever throws for a value the types said was impossible', () => {
    expect(() => assertNever('x' as never, 'status')).toThrow(/Unexpected status: "x"/);
  });
});
