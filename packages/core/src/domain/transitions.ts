import { IllegalTransitionError } from '../errors.js';
import type { PaymentStatus, RefundStatus, SubscriptionStatus } from './statuses.js';

/**
 * The payment state machine: for each status, the statuses it may move to. A gateway call that ends
 * without an answer leaves a payment `pending`; it never becomes `failed` on a guess. Once captured
 * (`succeeded`), a payment moves only between `succeeded`, `partially_refunded` and `refunded`, as its
 * `amountRefunded` follows Stripe's total: up as refunds succeed, and down again when a refund Stripe
 * had counted fails or is canceled (the amount is refundable again) — so `refunded` is not final, and
 * no path leads from a captured status back to one before capture.
 */
export const PAYMENT_TRANSITIONS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = Object.freeze({
  pending: ['requires_action', 'processing', 'succeeded', 'failed', 'canceled'],
  requires_action: ['processing', 'succeeded', 'failed', 'canceled'],
  processing: ['succeeded', 'failed', 'canceled'],
  succeeded: ['partially_refunded', 'refunded'],
  partially_refunded: ['succeeded', 'partially_refunded', 'refunded'],
  failed: [],
  canceled: [],
  refunded: ['succeeded', 'partially_refunded'],
});

/** The subscription state machine. `canceled` and `expired` are final. */
export const SUBSCRIPTION_TRANSITIONS: Readonly<Record<SubscriptionStatus, readonly SubscriptionStatus[]>> =
  Object.freeze({
    incomplete: ['active', 'expired'],
    active: ['past_due', 'canceled'],
    past_due: ['active', 'expired', 'canceled'],
    canceled: [],
    expired: [],
  });

/** The refund state machine. A failed or canceled refund gives its amount back to what may be refunded. */
export const REFUND_TRANSITIONS: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = Object.freeze({
  requires_approval: ['pending', 'canceled'],
  pending: ['succeeded', 'failed', 'canceled'],
  succeeded: ['failed'],
  failed: [],
  canceled: [],
});

/** Every state machine's transition table by machine name, as {@link canTransition} reads them. */
export const STATE_MACHINES = {
  payment: PAYMENT_TRANSITIONS,
  subscription: SUBSCRIPTION_TRANSITIONS,
  refund: REFUND_TRANSITIONS,
} as const;

/** The machines {@link canTransition} and {@link assertTransition} know: `payment`, `subscription`, `refund`. */
export type StateMachineName = keyof typeof STATE_MACHINES;

/** The statuses of one machine: `StatusOf<'payment'>` is {@link PaymentStatus}. */
export type StatusOf<M extends StateMachineName> = keyof (typeof STATE_MACHINES)[M] & string;

/** True when the `machine`'s table allows `from → to`. */
export function canTransition<M extends StateMachineName>(
  machine: M,
  from: StatusOf<M>,
  to: StatusOf<M>,
): boolean {
  const table = STATE_MACHINES[machine] as Readonly<Record<string, readonly string[]>>;
  return table[from]?.includes(to) ?? false;
}

/** Throws an {@link IllegalTransitionError} unless the `machine`'s table allows `from → to`. */
export function assertTransition<M extends StateMachineName>(
  machine: M,
  from: StatusOf<M>,
  to: StatusOf<M>,
): void {
  if (!canTransition(machine, from, to)) {
    throw new IllegalTransitionError(`A ${machine} cannot move from ${from} to ${to}.`, {
      context: { machine, from, to },
    });
  }
}

/** True for statuses with no way out. */
export function isFinal<M extends StateMachineName>(machine: M, status: StatusOf<M>): boolean {
  const table = STATE_MACHINES[machine] as Readonly<Record<string, readonly string[]>>;
  return (table[status]?.length ?? 0) === 0;
}
