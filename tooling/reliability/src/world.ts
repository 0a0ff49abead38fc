import type Stripe from 'stripe';
import { METADATA_PAYMENT_ID } from '@pay/stripe-adapter';
import type { PayState } from './pay-state.js';
import type { SandboxState } from './sandbox-state.js';

/** pay's rows and the sandbox's objects, read once, that the pure checkers compare. */
export interface World {
  readonly pay: PayState;
  readonly sandbox: SandboxState;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) {
    map.set(key, [value]);
  } else {
    list.push(value);
  }
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  return value === null || value === undefined ? null : typeof value === 'string' ? value : value.id;
}

/** The sandbox's objects indexed the ways the checkers look them up. */
export interface SandboxIndex {
  readonly intentsById: ReadonlyMap<string, Stripe.PaymentIntent>;
  /** Intents by the pay payment their metadata names. */
  readonly intentsByPayment: ReadonlyMap<string, readonly Stripe.PaymentIntent[]>;
  /** Intents whose metadata names no pay payment at all. */
  readonly unattributedIntents: readonly Stripe.PaymentIntent[];
  readonly chargesByIntent: ReadonlyMap<string, readonly Stripe.Charge[]>;
  readonly refundsById: ReadonlyMap<string, Stripe.Refund>;
  readonly refundsByIntent: ReadonlyMap<string, readonly Stripe.Refund[]>;
}

/** Builds the {@link SandboxIndex} of a sandbox state. */
export function indexSandbox(sandbox: SandboxState): SandboxIndex {
  const intentsByPayment = new Map<string, Stripe.PaymentIntent[]>();
  const unattributedIntents: Stripe.PaymentIntent[] = [];
  for (const intent of sandbox.paymentIntents) {
    const paymentId = intent.metadata[METADATA_PAYMENT_ID];
    if (paymentId === undefined || paymentId === '') {
      unattributedIntents.push(intent);
    } else {
      push(intentsByPayment, paymentId, intent);
    }
  }
  const chargesByIntent = new Map<string, Stripe.Charge[]>();
  for (const charge of sandbox.charges) {
    const intentId = idOf(charge.payment_intent);
    if (intentId !== null) {
      push(chargesByIntent, intentId, charge);
    }
  }
  const refundsByIntent = new Map<string, Stripe.Refund[]>();
  for (const refund of sandbox.refunds) {
    const intentId = idOf(refund.payment_intent);
    if (intentId !== null) {
      push(refundsByIntent, intentId, refund);
    }
  }
  return {
    intentsById: new Map(sandbox.paymentIntents.map((i) => [i.id, i])),
    intentsByPayment,
    unattributedIntents,
    chargesByIntent,
    refundsById: new Map(sandbox.refunds.map((r) => [r.id, r])),
    refundsByIntent,
  };
}

/** Groups rows by a key, keeping their order. */
export function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    push(map, key(row), row);
  }
  return map;
}

/** A charge that took money (refunded ones included: they took it first). */
export function isSuccessfulCharge(charge: Stripe.Charge): boolean {
  return charge.status === 'succeeded';
}

/** Refund statuses that hold money back from what may still be refunded. */
export function countsAgainstCaptured(status: string | null): boolean {
  return status === 'pending' || status === 'succeeded';
}
