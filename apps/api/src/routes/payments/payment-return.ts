import type { PaymentStatus, PaymentView } from '@pay/core';
import { z } from 'zod';
import { defineRoute, htmlReply, redirectReply, type ResponseSpec } from '../route.js';
import type { PaymentRouteDeps } from './create-payment.js';
import { RETURN_QUERY, ZPaymentReturnParams } from './payment-return.schema.js';

// The card holder's browser must not keep either answer: the next visit asks Stripe again.
const NO_STORE = { 'Cache-Control': 'no-store' };

const NO_STORE_HEADER = {
  description: '`no-store`: the outcome is asked again on every visit.',
  required: true,
  schema: z.literal('no-store'),
};

const SEE_OTHER: ResponseSpec = {
  status: 303,
  description:
    "To the caller's `return_url`, its own query kept, with `payment_id` and `status` added after it.",
  headers: {
    Location: {
      description: 'The `return_url` stored on the payment, and nowhere else.',
      required: true,
      schema: z.string(),
    },
    'Cache-Control': NO_STORE_HEADER,
  },
};

const OUTCOME_PAGE = {
  status: 200,
  description: 'When the payment has no `return_url`: a small page saying how the payment ended.',
  mediaType: 'text/html',
  headers: { 'Cache-Control': NO_STORE_HEADER },
} as const satisfies ResponseSpec;

const OUTCOME_WORDS: Record<PaymentStatus, string> = {
  pending: 'is being processed',
  requires_action: 'still needs you to confirm it with your bank',
  processing: 'is being processed',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'was canceled',
  partially_refunded: 'succeeded',
  refunded: 'succeeded',
};

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** The page for a payment without a `return_url`: its outcome in a sentence, nothing to run. */
export function outcomePage(view: PaymentView): string {
  const { id, status } = view.payment;
  const sentence = `Your payment ${OUTCOME_WORDS[status]}.`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><title>Payment</title></head>',
    `<body><h1>${escapeHtml(sentence)}</h1>`,
    `<p>Payment <code>${escapeHtml(id)}</code>: <strong>${escapeHtml(status)}</strong>. You may close this page.</p>`,
    '</body>',
    '</html>',
  ].join('\n');
}

/**
 * The caller's `return_url` with `payment_id` and `status` appended. Its own query is kept as it was
 * written (re-encoding it could change what the caller's page reads), and its fragment stays last.
 */
export function returnLocation(returnUrl: string, view: PaymentView): string {
  const url = new URL(returnUrl);
  const added = new URLSearchParams({
    [RETURN_QUERY.paymentId]: view.payment.id,
    [RETURN_QUERY.status]: view.payment.status,
  }).toString();
  url.search = url.search === '' || url.search === '?' ? added : `${url.search.slice(1)}&${added}`;
  return url.toString();
}

/**
 * `GET /payments/:id/return`: where 3-D Secure sends the card holder back. No API key (the browser has
 * none). pay asks Stripe how the payment ended and records it, ignoring whatever the query claims, then
 * sends the browser on to the `return_url` the caller gave, or shows the outcome when it gave none.
 */
export const paymentReturnRoute = defineRoute(
  {
    method: 'get',
    path: '/payments/:id/return',
    operationId: 'returnFromThreeDSecure',
    summary: 'Where 3-D Secure sends the card holder back',
    description:
      'Not called by API clients: Stripe (or the 3-D Secure page) redirects the card holder’s browser ' +
      'here. pay retrieves the PaymentIntent from Stripe, records the outcome, and redirects to the ' +
      'payment’s `return_url`. Query parameters are ignored.',
    tags: ['payments'],
    auth: 'none',
    request: { params: ZPaymentReturnParams },
    replies: [SEE_OTHER, OUTCOME_PAGE],
    errors: ['not_found', 'dependency_unavailable', 'gateway_unknown_state'],
  },
  async ({ params }, res, { payments }: PaymentRouteDeps) => {
    const { view, returnUrl } = await payments.completeReturn(params.id, res.locals.requestId);
    return returnUrl === null
      ? htmlReply(OUTCOME_PAGE, outcomePage(view), NO_STORE)
      : redirectReply(SEE_OTHER, returnLocation(returnUrl, view), NO_STORE);
  },
);
