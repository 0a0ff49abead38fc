import fc from 'fast-check';
import type { SandboxFault } from './fault-case.js';

/*
 * RELIABILITY.md B5's schedule, as data fast-check generates and shrinks: for each payment, which fault
 * the sandbox applies to which of pay's Stripe calls and how often, how the client retries with its
 * key, the refunds an admin then asks for (with their own faults and retries), and when the sandbox's
 * events reach pay's webhook inbox (some twice, some never, shuffled); then faults armed during the
 * first recovery pass. Every field shrinks towards "nothing happens", so a failing seed shrinks to the
 * few faults it needs.
 */

/**
 * What the sandbox does to a call. `409` is a call held in flight past pay's Stripe timeout: Stripe
 * executes it later, and any attempt under its key meanwhile gets Stripe's 409 (key in use) — the
 * sandbox has no other way to answer 409, nor does Stripe. `slow` is held, but less than the timeout.
 * `500` is answered before execution; `500_stored` executes, then stores and answers a 500 under the key
 * (`Stripe-Should-Retry: false`, RELIABILITY.md B2). `429_lock` is Stripe's retryable lock_timeout.
 */
export const FAULT_KINDS = ['ok', 'drop', '500', '500_stored', '429', '429_lock', '409', 'slow'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** pay's calls to Stripe a fault can target. */
export const STRIPE_CALLS = {
  customer: { method: 'POST', path: '/v1/customers' },
  attach: { method: 'POST', path: '/v1/payment_methods/*/attach' },
  create_intent: { method: 'POST', path: '/v1/payment_intents' },
  confirm_intent: { method: 'POST', path: '/v1/payment_intents/*/confirm' },
  retrieve_intent: { method: 'GET', path: '/v1/payment_intents/*' },
  list_intents: { method: 'GET', path: '/v1/payment_intents' },
  refund_create: { method: 'POST', path: '/v1/refunds' },
  refund_retrieve: { method: 'GET', path: '/v1/refunds/*' },
  list_events: { method: 'GET', path: '/v1/events' },
} as const;
export type StripeCall = keyof typeof STRIPE_CALLS;

const PAYMENT_CALLS = ['create_intent', 'confirm_intent', 'customer', 'attach'] as const;
const REFUND_CALLS = ['refund_create', 'refund_retrieve'] as const;
const RECOVERY_CALLS = [
  'retrieve_intent',
  'create_intent',
  'confirm_intent',
  'list_intents',
  'refund_create',
  'refund_retrieve',
  'list_events',
] as const;

/** One fault: `times` consecutive matching calls get it (a call's SDK retries are calls too). */
export interface FaultStep {
  readonly call: StripeCall;
  readonly kind: FaultKind;
  readonly times: number;
}

export interface RefundPlan {
  /** Per mille of the plan's amount, or `rest`: all that remains (no amount sent). */
  readonly amount: number | 'rest';
  readonly faults: readonly FaultStep[];
  /** Client retries with the same key while pay's answer is retryable (503, 409, 429). */
  readonly retries: number;
}

/** When the sandbox's events so far reach pay: after the first attempt, after the retries, or at the end. */
export type WebhookMoment = 'mid' | 'after' | 'end';

export interface PaymentPlan {
  readonly card: 'pm_card_visa' | 'pm_card_chargeDeclined';
  readonly faults: readonly FaultStep[];
  /** Client retries with the same key while pay's answer is retryable (503, 409, 429). */
  readonly retries: number;
  /** A second request with the same key sent while the first is still running. */
  readonly overlap: boolean;
  readonly webhooks: WebhookMoment;
  readonly refunds: readonly RefundPlan[];
  /** The refunds are sent at once (different keys) instead of one after the other. */
  readonly refundsAtOnce: boolean;
}

export interface Schedule {
  /** pay's own retries of a Stripe call (`PAY_STRIPE_MAX_NETWORK_RETRIES`). */
  readonly sdkRetries: 0 | 1;
  readonly payments: readonly PaymentPlan[];
  /** Armed during the first recovery pass only. */
  readonly recoveryFaults: readonly FaultStep[];
  /** Per cent of events never delivered (recovery's catch-up must fetch them). */
  readonly webhookLoss: number;
  /** Per cent of delivered events delivered twice. */
  readonly webhookDuplicates: number;
  /** Seeds the delivery order and which events are lost or doubled. */
  readonly deliverySeed: number;
}

/** Timing of the held faults, against pay's Stripe timeout. */
export interface FaultTiming {
  readonly stripeTimeoutMs: number;
  readonly slowMs: number;
  readonly heldMs: number;
}

const faultKind = fc.constantFrom(...FAULT_KINDS);

function faultStep(calls: readonly StripeCall[]): fc.Arbitrary<FaultStep> {
  return fc.record({
    call: fc.constantFrom(...calls),
    kind: faultKind,
    times: fc.integer({ min: 1, max: 3 }),
  });
}

const refundPlan: fc.Arbitrary<RefundPlan> = fc.record({
  amount: fc.oneof(fc.constant('rest' as const), fc.integer({ min: 1, max: 1000 })),
  faults: fc.array(faultStep(REFUND_CALLS), { maxLength: 2 }),
  retries: fc.integer({ min: 0, max: 3 }),
});

const paymentPlan: fc.Arbitrary<PaymentPlan> = fc.record({
  card: fc.constantFrom('pm_card_visa' as const, 'pm_card_chargeDeclined' as const),
  faults: fc.array(faultStep(PAYMENT_CALLS), { maxLength: 3 }),
  retries: fc.integer({ min: 0, max: 4 }),
  overlap: fc.boolean(),
  webhooks: fc.constantFrom<WebhookMoment>('end', 'mid', 'after'),
  refunds: fc.array(refundPlan, { maxLength: 2 }),
  refundsAtOnce: fc.boolean(),
});

/**
 * Schedules of exactly `payments` payments (so a run is as big as its size says; shrinking then makes
 * the other payments plain instead of removing them).
 */
export function scheduleArbitrary(payments: number): fc.Arbitrary<Schedule> {
  return fc.record({
    // pay's own retries wait out the SDK's back-off (½ s and up): one run in five, to keep runs short.
    sdkRetries: fc.oneof(
      { arbitrary: fc.constant<0 | 1>(0), weight: 4 },
      { arbitrary: fc.constant<0 | 1>(1), weight: 1 },
    ),
    payments: fc.array(paymentPlan, { minLength: payments, maxLength: payments }),
    recoveryFaults: fc.array(faultStep(RECOVERY_CALLS), { maxLength: 3 }),
    webhookLoss: fc.constantFrom(0, 20, 50, 100),
    webhookDuplicates: fc.constantFrom(0, 30, 100),
    deliverySeed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  });
}

/** The sandbox fault for a step (null for `ok`), matching its call. */
export function sandboxFaultOf(step: FaultStep, timing: FaultTiming): SandboxFault | null {
  const match = STRIPE_CALLS[step.call];
  const times = step.times;
  switch (step.kind) {
    case 'ok':
      return null;
    case 'drop':
      return { kind: 'drop_after_commit', match, times };
    case '500':
      return { kind: 'error_before', status: 500, match, times };
    case '500_stored':
      return { kind: 'error_after', match, times };
    case '429':
      return { kind: 'error_before', status: 429, match, times };
    case '429_lock':
      return { kind: 'error_before', status: 429, code: 'lock_timeout', match, times };
    case '409':
      return { kind: 'delay', ms: timing.heldMs, match, times };
    case 'slow':
      return { kind: 'delay', ms: timing.slowMs, match, times };
    default: {
      const never: never = step.kind;
      throw new Error(`unknown fault kind ${String(never)}`);
    }
  }
}

/** How long a held step can keep a request in flight at the sandbox (0 when it holds none). */
export function holdOf(step: FaultStep, timing: FaultTiming): number {
  return step.kind === '409' ? timing.heldMs : step.kind === 'slow' ? timing.slowMs : 0;
}

function describeSteps(steps: readonly FaultStep[]): string {
  const real = steps.filter((s) => s.kind !== 'ok');
  return real.length === 0 ? 'no fault' : real.map((s) => `${s.call} ${s.kind}×${s.times}`).join(', ');
}

function isPlain(p: PaymentPlan): boolean {
  return (
    p.faults.every((f) => f.kind === 'ok') &&
    p.retries === 0 &&
    !p.overlap &&
    p.refunds.length === 0 &&
    p.webhooks === 'end' &&
    p.card === 'pm_card_visa'
  );
}

/**
 * A schedule as a person reads it: only the payments that do something beyond a plain visa payment
 * (a shrunk counterexample is mostly plain), one line each.
 */
export function describeSchedule(schedule: Schedule): string {
  const lines = [
    `${schedule.payments.length} payments; pay's SDK retries ${schedule.sdkRetries}; webhooks lost ${schedule.webhookLoss}%, doubled ${schedule.webhookDuplicates}% (delivery seed ${schedule.deliverySeed}); recovery faults: ${describeSteps(schedule.recoveryFaults)}`,
  ];
  schedule.payments.forEach((p, i) => {
    if (isPlain(p)) {
      return;
    }
    const refunds = p.refunds.map(
      (r) =>
        `refund ${r.amount === 'rest' ? 'rest' : `${r.amount}‰`} [${describeSteps(r.faults)}] retries ${r.retries}`,
    );
    lines.push(
      `  payment #${i}: ${p.card}; ${describeSteps(p.faults)}; retries ${p.retries}${p.overlap ? ' (one overlapping)' : ''}; webhooks ${p.webhooks}` +
        (refunds.length > 0 ? `; ${refunds.join('; ')}${p.refundsAtOnce ? ' (at once)' : ''}` : ''),
    );
  });
  const plain = schedule.payments.filter(isPlain).length;
  if (plain > 0) {
    lines.push(
      `  ${plain} plain payment(s): pm_card_visa, no fault, no retry, no refund, webhooks at the end`,
    );
  }
  return lines.join('\n');
}
