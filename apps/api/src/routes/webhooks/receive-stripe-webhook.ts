import { ValidationError } from '@pay/core';
import type { WebhookInbox } from '@pay/runtime';
import type { Request } from 'express';
import { z } from 'zod';
import { countWebhookDelivery, type WebhookMetrics } from '../../metrics.js';
import { defineRoute } from '../route.js';
import {
  STRIPE_SIGNATURE_HEADER,
  ZReceiveStripeWebhookResponse,
  ZStripeEventBody,
  type TReceiveStripeWebhookResponse,
} from './receive-stripe-webhook.schema.js';

/** What the webhook route needs: the inbox (signature check, then storage) and its counters. */
export interface WebhookRouteDeps {
  readonly webhookInbox: WebhookInbox;
  readonly webhookMetrics: WebhookMetrics;
}

const EMPTY = Buffer.alloc(0);

/** The body exactly as received; the app parses this route's body raw, and an empty one stays empty. */
function rawBodyOf(req: Request): Buffer {
  const body: unknown = req.body;
  return Buffer.isBuffer(body) ? body : EMPTY;
}

/**
 * `POST /webhooks/stripe`: Stripe's deliveries. Answers 200 only once the event is stored (DESIGN.md
 * §5): Stripe stops delivering at the first 2xx, so anything earlier could lose it. A redelivery is a
 * 200 and changes nothing. A refused delivery is a 400 naming the failed check, with nothing stored;
 * it is counted and logged by reason, never with its payload or signature. A failure to store is a 503,
 * so Stripe delivers again.
 */
export const receiveStripeWebhookRoute = defineRoute(
  {
    method: 'post',
    path: '/webhooks/stripe',
    operationId: 'receiveStripeWebhook',
    summary: 'Receive a Stripe event (Stripe calls this)',
    description:
      `Verifies the \`${STRIPE_SIGNATURE_HEADER}\` header (HMAC-SHA256 over the raw body, any configured ` +
      'secret, timestamp within 300 s either way), stores the event in the inbox keyed by its Stripe id, ' +
      'and only then answers 200; the workers apply it afterwards. Takes no API key: the signature ' +
      'authenticates the delivery.',
    tags: ['webhooks'],
    auth: 'none',
    request: {},
    rawBody: {
      description: 'A Stripe Event, as Stripe signed it: the bytes must reach pay unchanged.',
      schema: ZStripeEventBody,
    },
    requestHeaders: {
      [STRIPE_SIGNATURE_HEADER]: {
        description:
          "Stripe's signature of the body: `t=<unix seconds>,v1=<hex HMAC-SHA256>`, one `v1` per secret.",
        schema: z.string(),
        required: true,
      },
    },
    response: {
      status: 200,
      description: 'The event is stored (now, or by an earlier delivery of it) and will be applied.',
      schema: ZReceiveStripeWebhookResponse,
    },
    errors: ['dependency_unavailable'],
  },
  async (_input, res, { webhookInbox, webhookMetrics }: WebhookRouteDeps) => {
    const req = res.req;
    webhookMetrics.events.inc({ result: 'received' });
    const delivery = await webhookInbox.receive(rawBodyOf(req), req.get(STRIPE_SIGNATURE_HEADER));
    countWebhookDelivery(webhookMetrics, delivery);
    if (delivery.kind === 'rejected') {
      res.locals.logger.warn('webhook delivery refused', { reason: delivery.reason });
      throw new ValidationError(delivery.message);
    }
    res.locals.logger.debug('webhook event stored', {
      stripeEventId: delivery.event.stripeEventId,
      type: delivery.event.type,
      duplicate: !delivery.inserted,
    });
    const answer: TReceiveStripeWebhookResponse = { received: true };
    return answer;
  },
);
