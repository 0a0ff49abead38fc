import { z } from 'zod';

/** The header carrying Stripe's signature of a delivery: `t=<seconds>,v1=<hex>[,v1=<hex>…]`. */
export const STRIPE_SIGNATURE_HEADER = 'Stripe-Signature';

/**
 * What a delivery's body holds: a Stripe Event. For the document only: the route reads the raw bytes,
 * checks their signature, and leaves decoding to the gateway adapter.
 */
export const ZStripeEventBody = z
  .object({
    id: z.string().describe('The Stripe event id (`evt_…`): the inbox stores each id once.'),
    object: z.literal('event'),
    type: z.string().describe('`payment_intent.succeeded`, `charge.refunded`, …'),
    created: z.number().int().describe("Stripe's creation time, in Unix seconds."),
    api_version: z.string().nullable().optional(),
    livemode: z.boolean(),
    data: z.object({ object: z.record(z.string(), z.unknown()) }).loose(),
  })
  .loose();

/** `POST /api/v1/webhooks/stripe` answer: the event is stored and will be applied. */
export const ZReceiveStripeWebhookResponse = z.object({ received: z.literal(true) });
export type TReceiveStripeWebhookResponse = z.infer<typeof ZReceiveStripeWebhookResponse>;
