import {
  BILLING_REASONS,
  CURRENCIES,
  PAYMENT_STATUSES,
  PLAN_INTERVALS,
  SUBSCRIPTION_STATUSES,
  type SubscriptionView,
} from '@pay/core';
import { subscriptionJson } from '@pay/runtime';
import { z } from 'zod';

/** How many of a subscription's payments its body lists, newest first (the service's own cap). */
export const RECENT_PAYMENTS_SHOWN = 5;

/** One of a subscription's recent payments: enough to tell a renewal from a dunning retry and why it failed. */
export const ZSubscriptionPayment = z.object({
  id: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  amount: z.number().int().positive(),
  currency: z.enum(CURRENCIES),
  billing_reason: z
    .enum(BILLING_REASONS)
    .describe('`subscription_create` for the first payment, `subscription_cycle` for renewals and retries.'),
  created: z.iso.datetime(),
  failure_code: z
    .string()
    .nullable()
    .describe("Stripe's error code when the payment failed; null otherwise."),
});
export type TSubscriptionPayment = z.infer<typeof ZSubscriptionPayment>;

/**
 * A subscription as the API shows it (DESIGN.md §7): its plan, where it is in its billing calendar, the
 * card renewals go to (brand and last 4 digits only) and its latest payments. Times are ISO-8601 UTC.
 */
export const ZSubscriptionResponse = z.object({
  id: z.string(),
  object: z.literal('subscription'),
  user_id: z.string().describe("The caller's id of its end user, as sent with the first payment."),
  status: z.enum(SUBSCRIPTION_STATUSES),
  plan: z.object({
    id: z.string(),
    name: z.string(),
    amount: z.number().int().positive(),
    currency: z.enum(CURRENCIES),
    interval: z.enum(PLAN_INTERVALS),
  }),
  current_period_start: z.iso.datetime(),
  current_period_end: z.iso.datetime(),
  next_billing_at: z.iso
    .datetime()
    .nullable()
    .describe(
      'When pay next charges (a renewal or a dunning retry), or acts on a pending cancellation; null once ended.',
    ),
  cancel_at_period_end: z
    .boolean()
    .describe('True when a cancellation waits for the period to end; `resume` undoes it until then.'),
  canceled_at: z.iso.datetime().nullable().describe('When cancellation was asked for.'),
  ended_at: z.iso.datetime().nullable().describe('When the subscription became `canceled` or `expired`.'),
  payment_method: z.object({ brand: z.string(), last4: z.string() }).nullable(),
  recent_payments: z
    .array(ZSubscriptionPayment)
    .max(RECENT_PAYMENTS_SHOWN)
    .describe(`The latest ${RECENT_PAYMENTS_SHOWN} payments, newest first.`),
  created: z.iso.datetime(),
});
export type TSubscriptionResponse = z.infer<typeof ZSubscriptionResponse>;

/**
 * The API's view of a subscription: the shape the CLI's `--json` shares (`subscriptionJson`), a function
 * of the view only, so the answer to a replayed request is the same, byte for byte, as the first.
 */
export function toSubscriptionResponse(view: SubscriptionView): TSubscriptionResponse {
  const json = subscriptionJson(view);
  return { ...json, recent_payments: json.recent_payments.slice(0, RECENT_PAYMENTS_SHOWN) };
}
