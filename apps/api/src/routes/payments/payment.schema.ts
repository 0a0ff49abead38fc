import { CURRENCIES, PAYMENT_STATUSES, type GatewayDecline, type PaymentView } from '@pay/core';
import { z } from 'zod';

/** Why a payment failed, in Stripe's codes: what a client shows the card holder or branches on. */
export const ZPaymentFailure = z.object({
  code: z
    .string()
    .describe("Stripe's error code: `card_declined`, `expired_card`, `authentication_required`, …"),
  decline_code: z
    .string()
    .nullable()
    .describe("The issuer's reason for an issuer decline (`insufficient_funds`, …); null otherwise."),
  message: z.string().describe('Written for the card holder.'),
});
export type TPaymentFailure = z.infer<typeof ZPaymentFailure>;

/**
 * A payment as the API shows it (DESIGN.md §7): amounts in minor units, `created` an ISO-8601 UTC time,
 * the card as brand and last 4 digits only. The account is implied by the key, so it is not repeated.
 */
export const ZPaymentResponse = z.object({
  id: z.string(),
  object: z.literal('payment'),
  status: z.enum(PAYMENT_STATUSES),
  amount: z.number().int().positive(),
  currency: z.enum(CURRENCIES),
  amount_refunded: z.number().int().min(0),
  user_id: z.string().describe("The caller's id of its end user, as sent."),
  plan_id: z.string().nullable(),
  subscription_id: z.string().nullable(),
  payment_method: z.object({ brand: z.string(), last4: z.string() }).nullable(),
  failure: ZPaymentFailure.nullable().describe('Set when the payment failed.'),
  next_action: z
    .object({
      type: z.literal('redirect_to_url'),
      redirect_url: z.string().describe('Send the card holder here to complete 3-D Secure.'),
    })
    .nullable()
    .describe('Set while the payment is `requires_action`.'),
  created: z.iso.datetime(),
});
export type TPaymentResponse = z.infer<typeof ZPaymentResponse>;

/**
 * What the service's result knows beyond the stored payment: the 3-D Secure page of a
 * `requires_action` result, the decline of a `declined` one.
 */
export interface PaymentResultDetails {
  readonly redirectUrl?: string | null;
  readonly decline?: GatewayDecline | null;
}

function failureOf(view: PaymentView, decline: GatewayDecline | null | undefined): TPaymentFailure | null {
  if (decline !== undefined && decline !== null) {
    return { code: decline.code, decline_code: decline.declineCode, message: decline.message };
  }
  const { failureCode, declineCode, failureMessage } = view.payment;
  if (failureCode === null) {
    return null;
  }
  return { code: failureCode, decline_code: declineCode, message: failureMessage ?? 'The payment failed.' };
}

function redirectOf(view: PaymentView, redirectUrl: string | null | undefined): string | null {
  if (redirectUrl !== undefined && redirectUrl !== null) {
    return redirectUrl;
  }
  return view.payment.status === 'requires_action' ? view.payment.nextActionUrl : null;
}

/**
 * The API's view of a payment. A function of its arguments only, with a fixed key order, so the answer
 * built from a stored result is the same, byte for byte, every time it is replayed.
 */
export function toPaymentResponse(view: PaymentView, details: PaymentResultDetails = {}): TPaymentResponse {
  const { payment, card } = view;
  const redirectUrl = redirectOf(view, details.redirectUrl);
  return {
    id: payment.id,
    object: 'payment',
    status: payment.status,
    amount: payment.amount,
    currency: payment.currency,
    amount_refunded: payment.amountRefunded,
    user_id: view.userId,
    plan_id: payment.planId,
    subscription_id: payment.subscriptionId,
    payment_method: card === null ? null : { brand: card.brand, last4: card.last4 },
    failure: failureOf(view, details.decline),
    next_action: redirectUrl === null ? null : { type: 'redirect_to_url', redirect_url: redirectUrl },
    created: payment.createdAt.toISOString(),
  };
}
