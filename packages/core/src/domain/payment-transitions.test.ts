import fc from 'fast-check';
import { PAYMENT_STATUSES, type PaymentStatus } from './statuses.js';
import { PAYMENT_TRANSITIONS, canTransition, isFinal } from './transitions.js';

/* Properties of the payment state machine that the payment flow and recovery rely on. */

const status = fc.constantFrom(...PAYMENT_STATUSES);
const PRE_CAPTURE: readonly PaymentStatus[] = [
  'pending',
  'requires_action',
  'processing',
  'failed',
  'canceled',
];
const CAPTURED: readonly PaymentStatus[] = ['succeeded', 'partially_refunded', 'refunded'];

/** Follows `choices` through the table from `start`, taking only allowed moves. */
function walk(start: PaymentStatus, choices: readonly number[]): PaymentStatus[] {
  const path: PaymentStatus[] = [start];
  let current = start;
  for (const choice of choices) {
    const next = PAYMENT_TRANSITIONS[current];
    if (next.length === 0) {
      break;
    }
    current = next[choice % next.length] as PaymentStatus;
    path.push(current);
  }
  return path;
}

describe('the payment state machine', () => {
  it('never leaves a final status', () => {
    fc.assert(
      fc.property(status, status, (from, to) => {
        if (isFinal('payment', from)) {
          expect(canTransition('payment', from, to)).toBe(false);
        }
      }),
    );
    expect(PAYMENT_STATUSES.filter((s) => isFinal('payment', s)).sort()).toEqual(['canceled', 'failed']);
  });

  it('moves a captured payment only among succeeded, partially_refunded and refunded, in both directions', () => {
    // Down as well as up: a refund Stripe counted may fail or be canceled, and its amount is refundable again.
    expect(PAYMENT_TRANSITIONS.succeeded).toEqual(['partially_refunded', 'refunded']);
    expect(PAYMENT_TRANSITIONS.partially_refunded).toEqual(['succeeded', 'partially_refunded', 'refunded']);
    expect(PAYMENT_TRANSITIONS.refunded).toEqual(['succeeded', 'partially_refunded']);
    fc.assert(
      fc.property(fc.constantFrom(...CAPTURED), fc.array(fc.nat(), { maxLength: 30 }), (start, choices) => {
        for (const s of walk(start, choices)) {
          expect(CAPTURED).toContain(s);
        }
      }),
    );
  });

  it('never takes a captured payment back to a status before capture, on any path', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CAPTURED), fc.array(fc.nat(), { maxLength: 30 }), (start, choices) => {
        for (const s of walk(start, choices)) {
          expect(PRE_CAPTURE).not.toContain(s);
        }
      }),
    );
  });

  it('lets a pending payment end only as succeeded, failed or canceled before any refund', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 30 }), (choices) => {
        const path = walk('pending', choices);
        const firstSettled = path.find((s) => !['pending', 'requires_action', 'processing'].includes(s));
        if (firstSettled !== undefined) {
          expect(['succeeded', 'failed', 'canceled']).toContain(firstSettled);
        }
        // A path visits each pre-capture status at most once: no loops before the outcome.
        const before = path.slice(0, firstSettled === undefined ? path.length : path.indexOf(firstSettled));
        expect(new Set(before).size).toBe(before.length);
      }),
    );
  });

  it('never moves a payment back to pending once it left it', () => {
    fc.assert(
      fc.property(status, (from) => {
        expect(canTransition('payment', from, 'pending')).toBe(false);
      }),
    );
  });
});
