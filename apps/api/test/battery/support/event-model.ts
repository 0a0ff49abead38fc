import { intentOfEvent, type StripeEventJson } from './webhooks.js';

/*
 * RELIABILITY.md D4's reference: the state of each payment obtained by applying Stripe's events in the
 * order Stripe created them, one at a time, with nothing lost or repeated. pay applies them in any
 * order, each at least once; it must end where this does (and where the sandbox is: K2).
 */

/** What a payment's events say at the end: its status in pay's words and what was refunded. */
export interface ModelPayment {
  readonly status: string;
  readonly amountRefunded: number;
}

/** The intent events that set a payment's status, and the status each announces. */
const INTENT_STATUS: Readonly<Record<string, string>> = {
  'payment_intent.requires_action': 'requires_action',
  'payment_intent.processing': 'processing',
  'payment_intent.succeeded': 'succeeded',
  'payment_intent.payment_failed': 'failed',
  'payment_intent.canceled': 'canceled',
};

/**
 * Folds `events` (oldest first) into the final state per PaymentIntent: the last status event wins, and
 * `amount_refunded` is the last `charge.refunded`'s running total (Stripe's, set and never summed).
 */
export function modelFromEvents(
  events: readonly StripeEventJson[],
  amountOf: (intentId: string) => number | undefined,
): Map<string, ModelPayment> {
  const status = new Map<string, string>();
  const refunded = new Map<string, number>();
  for (const event of events) {
    const intent = intentOfEvent(event);
    if (intent === null) {
      continue;
    }
    const announced = INTENT_STATUS[event.type];
    if (announced !== undefined) {
      status.set(intent, announced);
    } else if (event.type === 'charge.refunded') {
      refunded.set(intent, Number(event.data.object.amount_refunded ?? 0));
    }
  }
  const out = new Map<string, ModelPayment>();
  for (const [intent, s] of status) {
    const amountRefunded = refunded.get(intent) ?? 0;
    const amount = amountOf(intent);
    const final =
      s === 'succeeded' && amountRefunded > 0
        ? amount !== undefined && amountRefunded >= amount
          ? 'refunded'
          : 'partially_refunded'
        : s;
    out.set(intent, { status: final, amountRefunded });
  }
  return out;
}
