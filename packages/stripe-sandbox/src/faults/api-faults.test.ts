import { ApiFaultBook, FaultSpecError, globToRegExp } from './api-faults.js';

const target = {
  method: 'POST',
  path: '/v1/payment_intents/pi_1/confirm',
  idempotencyKey: 'k',
  account: 'acct_1',
};

describe('ApiFaultBook', () => {
  it('matches globs: * within a segment, ** across', () => {
    expect(globToRegExp('/v1/payment_intents/*/confirm').test(target.path)).toBe(true);
    expect(globToRegExp('/v1/*').test(target.path)).toBe(false);
    expect(globToRegExp('/v1/**').test(target.path)).toBe(true);
    expect(globToRegExp('/v1/payment_intents.x').test('/v1/payment_intentsxx')).toBe(false);
  });

  it('takes the oldest matching fault and counts its times', () => {
    const book = new ApiFaultBook();
    book.add({
      kind: 'error_before',
      status: 500,
      times: 2,
      match: { path: '/v1/payment_intents/*/confirm', method: 'post' },
    });
    book.add({ kind: 'error_before', status: 503 });
    expect(book.take('error_before', target)?.status).toBe(500);
    expect(book.take('error_before', target)?.status).toBe(500);
    expect(book.take('error_before', target)?.status).toBe(503);
    expect(book.take('error_before', { ...target, method: 'GET' })?.status).toBe(503);
    expect(book.take('drop_after_commit', target)).toBeUndefined();
  });

  it('matches idempotency keys and accounts, and keeps permanent faults on clear', () => {
    const book = new ApiFaultBook();
    book.add({ kind: 'drop_after_commit', match: { idempotencyKey: 'other' } });
    book.add({ kind: 'latency', ms: 5 }, true);
    expect(book.take('drop_after_commit', target)).toBeUndefined();
    expect(book.takeHold(target)).toEqual({ kind: 'latency', ms: 5 });
    book.clear();
    expect(book.list()).toHaveLength(1);
  });

  it('keeps a processing fault for the flow to take, with its settlement as given', () => {
    const book = new ApiFaultBook();
    book.add({ kind: 'processing', settle_after_seconds: 0, outcome: 'failed', times: 1 });
    expect(book.take('processing', target)).toMatchObject({ settle_after_seconds: 0, outcome: 'failed' });
    expect(book.size).toBe(0);
  });

  it.each([
    [{ kind: 'error_before', status: 404 }],
    [{ kind: 'error_before', status: 500, code: 'lock_timeout' }],
    [{ kind: 'error_after', status: 503 }],
    [{ kind: 'delay', ms: -1 }],
    [{ kind: 'delay', ms: 5, times: 0 }],
    [{ kind: 'latency', ms: 5, distribution: { type: 'fixed', ms: 5 } }],
    [{ kind: 'drop_after_commit', match: { colour: 'red' } }],
    [{ kind: 'processing', settle_after_seconds: -1 }],
    [{ kind: 'processing', settle_after_seconds: '60' }],
    [{ kind: 'processing', outcome: 'requires_capture' }],
  ])('refuses %j', (fault) => {
    expect(() => new ApiFaultBook().add(fault as never)).toThrow(FaultSpecError);
  });
});
