import { createClock } from './clock.js';
import { IdempotencyStore, type IdempotencyDecision } from './idempotency.js';

const response = { status: 200, body: { id: 'x' }, stripeVersion: 'v', requestId: 'req_1' };

function execute(decision: IdempotencyDecision): Extract<IdempotencyDecision, { kind: 'execute' }> {
  if (decision.kind !== 'execute') {
    throw new Error(`expected execute, got ${decision.kind}`);
  }
  return decision;
}

describe('IdempotencyStore', () => {
  it('claims, reports in-flight, then replays', () => {
    const store = new IdempotencyStore(createClock('virtual', 0), 86_400_000);
    const claim = execute(store.begin('k', '/v1/x', 'fp'));
    expect(store.begin('k', '/v1/x', 'fp').kind).toBe('in_flight');
    claim.commit(response);
    expect(store.begin('k', '/v1/x', 'fp')).toEqual({ kind: 'replay', response });
  });

  it('reports endpoint before parameter mismatches', () => {
    const store = new IdempotencyStore(createClock('virtual', 0), 1000);
    execute(store.begin('k', '/v1/x', 'fp')).commit(response);
    expect(store.begin('k', '/v1/y', 'other')).toEqual({ kind: 'endpoint_mismatch', originalPath: '/v1/x' });
    expect(store.begin('k', '/v1/x', 'other').kind).toBe('params_mismatch');
  });

  it('expires keys on the clock and on demand; abandon releases an unexecuted claim', () => {
    const clock = createClock('virtual', 0);
    const store = new IdempotencyStore(clock, 1000);
    execute(store.begin('k', '/v1/x', 'fp')).commit(response);
    clock.advance(0.999);
    expect(store.begin('k', '/v1/x', 'fp').kind).toBe('replay');
    clock.advance(0.001);
    execute(store.begin('k', '/v1/x', 'other')).commit(response);
    expect(store.expire('k')).toBe(true);
    execute(store.begin('k', '/v1/x', 'fp')).abandon();
    expect(store.size).toBe(0);
  });

  it('sweeps expired keys as new ones arrive', () => {
    const clock = createClock('virtual', 0);
    const store = new IdempotencyStore(clock, 1000);
    for (let i = 0; i < 2000; i += 1) {
      execute(store.begin(`old${i}`, '/v1/x', 'fp')).commit(response);
    }
    clock.advance(2);
    for (let i = 0; i < 1100; i += 1) {
      execute(store.begin(`new${i}`, '/v1/x', 'fp')).commit(response);
    }
    expect(store.size).toBeLessThan(2000);
  });
});
