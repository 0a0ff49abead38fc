import fc from 'fast-check';
import { IllegalTransitionError } from '../errors.js';
import { PAYMENT_STATUSES, REFUND_STATUSES, SUBSCRIPTION_STATUSES, type PaymentStatus } from './statuses.js';
import {
  PAYMENT_TRANSITIONS,
  REFUND_TRANSITIONS,
  SUBSCRIPTION_TRANSITIONS,
  assertTransition,
  canTransition,
  isFinal,
} from './transitions.js';

describe('state machines', () => {
  it('list a row for every status, and name only known statuses as targets', () => {
    const machines = [
      [PAYMENT_TRANSITIONS, PAYMENT_STATUSES],
      [SUBSCRIPTION_TRANSITIONS, SUBSCRIPTION_STATUSES],
      [REFUND_TRANSITIONS, REFUND_STATUSES],
    ] as const;
    for (const [table, statuses] of machines) {
      expect(Object.keys(table).sort()).toEqual([...statuses].sort());
      for (const targets of Object.values(table) as readonly string[][]) {
        for (const target of targets) {
          expect(statuses as readonly string[]).toContain(target);
        }
      }
    }
  });

  it('allows exactly the transitions of the table, and throws a typed error otherwise', () => {
    const status = fc.constantFrom(...PAYMENT_STATUSES);
    fc.assert(
      fc.property(status, status, (from, to) => {
        const allowed = PAYMENT_TRANSITIONS[from].includes(to);
        expect(canTransition('payment', from, to)).toBe(allowed);
        if (allowed) {
          expect(() => assertTransition('payment', from, to)).not.toThrow();
        } else {
          expect(() => assertTransition('payment', from, to)).toThrow(IllegalTransitionError);
        }
      }),
    );
  });

  it('never lets a payment move backward: no path leads from succeeded to a pre-capture status', () => {
    const reachable = new Set<PaymentStatus>(['succeeded']);
    const queue: PaymentStatus[] = ['succeeded'];
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
      for (const next of PAYMENT_TRANSITIONS[s]) {
        if (!reachable.has(next)) {
          reachable.add(next);
          queue.push(next);
        }
      }
    }
    for (const before of ['pending', 'requires_action', 'processing', 'failed', 'canceled'] as const) {
      expect(reachable.has(before)).toBe(false);
    }
  });

  it('reaches every status from the initial one; a walk stops only in a final status', () => {
    const reachable = new Set<PaymentStatus>(['pending']);
    const queue: PaymentStatus[] = ['pending'];
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
      for (const next of PAYMENT_TRANSITIONS[s]) {
        if (!reachable.has(next)) {
          reachable.add(next);
          queue.push(next);
        }
      }
    }
    expect([...reachable].sort()).toEqual([...PAYMENT_STATUSES].sort());
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), (choices) => {
        let s: PaymentStatus = 'pending';
        for (const c of choices) {
          const next = PAYMENT_TRANSITIONS[s].filter((t) => t !== s);
          if (next.length === 0) {
            expect(isFinal('payment', s)).toBe(true);
            return;
          }
          s = next[c % next.length] as PaymentStatus;
        }
      }),
    );
    // Refunds move a captured payment both ways (a refund that fails gives its amount back).
    expect(canTransition('payment', 'refunded', 'partially_refunded')).toBe(true);
    expect(canTransition('payment', 'refunded', 'succeeded')).toBe(true);
    expect(canTransition('payment', 'partially_refunded', 'succeeded')).toBe(true);
    expect(canTransition('payment', 'refunded', 'pending')).toBe(false);
    expect(isFinal('subscription', 'canceled')).toBe(true);
    expect(isFinal('subscription', 'expired')).toBe(true);
    expect(canTransition('subscription', 'canceled', 'active')).toBe(false);
    expect(canTransition('refund', 'requires_approval', 'pending')).toBe(true);
  });
});
