import { readPayState, sandboxClient } from '@pay/reliability';
import { newIdempotencyKey, type Battery } from './battery.js';
import { describeAnswer, retryUntilFinal } from './client.js';
import { CONFIRM_INTENT } from './fault-case.js';
import { fromSenders } from './webhooks.js';
import type { ApiProcess } from './processes.js';

/*
 * Payments made the way the webhook battery needs them: through pay's API (so pay has the rows), then
 * moved on in the sandbox alone — 3-D Secure challenges answered, `processing` intents settled, refunds
 * made in Stripe's dashboard — so only Stripe's events can tell pay what happened.
 */

/** How a payment goes: what the API answers, then what happens at Stripe without pay. */
export type PaymentKind =
  'succeeded' | 'declined' | '3ds_succeeded' | '3ds_failed' | 'processing_succeeded' | 'processing_failed';

/** Refunds made in the sandbox's "dashboard" (straight through the Stripe API) after the payment succeeded. */
export type DashboardRefunds = 'none' | 'partial' | 'full' | 'two_partials';

export interface MadePayment {
  readonly kind: PaymentKind;
  readonly paymentId: string;
  readonly intentId: string;
  readonly amount: number;
  /** What pay answered the create with. */
  readonly answered: string;
}

const CARD: Record<PaymentKind, string> = {
  succeeded: 'pm_card_visa',
  declined: 'pm_card_chargeDeclinedInsufficientFunds',
  '3ds_succeeded': 'pm_card_threeDSecure2Required',
  '3ds_failed': 'pm_card_threeDSecure2Required',
  processing_succeeded: 'pm_card_visa',
  processing_failed: 'pm_card_visa',
};

/** The status pay answers the create with, before Stripe moves on without it. */
const ANSWERED: Record<PaymentKind, string> = {
  succeeded: '201 succeeded',
  declined: '402 failed',
  '3ds_succeeded': '201 requires_action',
  '3ds_failed': '201 requires_action',
  processing_succeeded: '201 processing',
  processing_failed: '201 processing',
};

function isProcessing(kind: PaymentKind): boolean {
  return kind === 'processing_succeeded' || kind === 'processing_failed';
}

async function create(
  battery: Battery,
  api: ApiProcess,
  kinds: readonly PaymentKind[],
  concurrency: number,
): Promise<{ kind: PaymentKind; paymentId: string; answered: string }[]> {
  return fromSenders(kinds, concurrency, async (kind) => {
    const key = newIdempotencyKey(`webhooks-${kind}`);
    const body = battery.body({
      payment_method_id: CARD[kind],
      ...(kind.startsWith('3ds') ? { return_url: 'https://shop.example/done' } : {}),
    });
    const { final } = await retryUntilFinal(() => battery.post(api, key, body));
    const parsed = JSON.parse(final.body) as { id?: string; status?: string };
    const answered = `${final.status} ${parsed.status ?? '?'}`;
    if (answered !== ANSWERED[kind] || typeof parsed.id !== 'string') {
      throw new Error(`a ${kind} payment was answered ${describeAnswer(final)}: ${final.body}`);
    }
    return { kind, paymentId: parsed.id, answered };
  });
}

/**
 * Makes one payment per entry of `kinds` through the API at `concurrency`, then (unless `moveOn` is
 * false) answers the 3-D Secure challenges and settles the `processing` intents in the sandbox. The
 * `processing` ones go first, alone, with the sandbox's `processing` fault armed for exactly their
 * confirmations. Resolves in the order of `kinds`.
 */
export async function makePayments(
  battery: Battery,
  api: ApiProcess,
  kinds: readonly PaymentKind[],
  concurrency = 16,
  { moveOn = true }: { readonly moveOn?: boolean } = {},
): Promise<MadePayment[]> {
  const processing = kinds.filter(isProcessing);
  const others = kinds.filter((k) => !isProcessing(k));
  let fromProcessing: { kind: PaymentKind; paymentId: string; answered: string }[] = [];
  if (processing.length > 0) {
    battery.sandbox.faults.add({ kind: 'processing', match: CONFIRM_INTENT, times: processing.length });
    try {
      fromProcessing = await create(battery, api, processing, concurrency);
    } finally {
      battery.sandbox.faults.clear();
    }
  }
  const fromOthers = await create(battery, api, others, concurrency);
  // Back in the order of `kinds`.
  const made = kinds.map((kind) => {
    const next = isProcessing(kind) ? fromProcessing.shift() : fromOthers.shift();
    if (next === undefined) {
      throw new Error('a payment went missing');
    }
    return next;
  });

  const state = await readPayState(battery.database.url);
  const byId = new Map(state.payments.map((p) => [p.id, p]));
  const out = made.map((m): MadePayment => {
    const row = byId.get(m.paymentId);
    if (row?.stripe_payment_intent_id === null || row === undefined) {
      throw new Error(`payment ${m.paymentId} (${m.kind}) has no PaymentIntent recorded`);
    }
    return { ...m, intentId: row.stripe_payment_intent_id, amount: row.amount };
  });
  if (moveOn) {
    moveOnInSandbox(battery, out);
  }
  return out;
}

/** What Stripe does next without pay: the challenges answered, the `processing` intents settled. */
export function moveOnInSandbox(battery: Battery, payments: readonly MadePayment[]): void {
  for (const p of payments) {
    if (p.kind === '3ds_succeeded' || p.kind === '3ds_failed') {
      battery.sandbox.authenticate(p.intentId, p.kind === '3ds_succeeded' ? 'succeed' : 'fail');
    } else if (isProcessing(p.kind)) {
      battery.sandbox.settle(p.intentId, p.kind === 'processing_succeeded' ? 'succeeded' : 'failed');
    }
  }
}

/** True for the kinds whose intent ends `succeeded` at Stripe: the ones that can be refunded. */
export function endsSucceeded(kind: PaymentKind): boolean {
  return kind === 'succeeded' || kind === '3ds_succeeded' || kind === 'processing_succeeded';
}

/** Refunds `payment` in the sandbox as an operator would in Stripe's dashboard: pay is not asked. */
export async function refundInDashboard(
  battery: Battery,
  payment: MadePayment,
  refunds: DashboardRefunds,
): Promise<void> {
  const stripe = sandboxClient(battery.ctx.sandbox);
  const third = Math.floor(payment.amount / 3);
  switch (refunds) {
    case 'none':
      return;
    case 'partial':
      await stripe.refunds.create({ payment_intent: payment.intentId, amount: third });
      return;
    case 'full':
      await stripe.refunds.create({ payment_intent: payment.intentId });
      return;
    case 'two_partials':
      await stripe.refunds.create({ payment_intent: payment.intentId, amount: third });
      await stripe.refunds.create({ payment_intent: payment.intentId, amount: third + 1 });
      return;
  }
}
