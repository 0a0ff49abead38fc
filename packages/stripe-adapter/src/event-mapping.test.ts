import { isPayError, newId } from '@pay/core';
import { decodeStripeEvent, eventObjectKind } from './event-mapping.js';

/* A webhook payload as Stripe delivers it, decoded into core's GatewayEvent; anything else refused. */

const CREATED = 1_767_225_600;
const CARD_HOLDER_EMAIL = 'ada@example.com';

function event(type: string, object: Record<string, unknown>, fields: Record<string, unknown> = {}) {
  return {
    id: 'evt_1',
    object: 'event',
    api_version: '2026-10-28.endive',
    created: CREATED + 1,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: 'req_1', idempotency_key: 'pay:x:confirm' },
    type,
    ...fields,
  };
}

function intent(fields: Record<string, unknown> = {}) {
  return {
    id: 'pi_1',
    object: 'payment_intent',
    amount: 2000,
    amount_received: 2000,
    currency: 'usd',
    customer: 'cus_1',
    payment_method: 'pm_1',
    metadata: {},
    next_action: null,
    last_payment_error: null,
    receipt_email: CARD_HOLDER_EMAIL,
    created: CREATED,
    status: 'succeeded',
    ...fields,
  };
}

function charge(fields: Record<string, unknown> = {}) {
  return {
    id: 'ch_1',
    object: 'charge',
    payment_intent: 'pi_1',
    amount: 2000,
    amount_captured: 2000,
    amount_refunded: 700,
    currency: 'usd',
    status: 'succeeded',
    billing_details: { email: CARD_HOLDER_EMAIL },
    created: CREATED,
    ...fields,
  };
}

function refund(fields: Record<string, unknown> = {}) {
  return {
    id: 're_1',
    object: 'refund',
    amount: 700,
    charge: 'ch_1',
    payment_intent: 'pi_1',
    currency: 'usd',
    metadata: {},
    reason: null,
    status: 'succeeded',
    created: CREATED,
    ...fields,
  };
}

function dispute(fields: Record<string, unknown> = {}) {
  return {
    id: 'dp_1',
    object: 'dispute',
    amount: 2000,
    charge: 'ch_1',
    payment_intent: 'pi_1',
    currency: 'usd',
    reason: 'fraudulent',
    status: 'needs_response',
    created: CREATED,
    ...fields,
  };
}

function decode(value: unknown) {
  return decodeStripeEvent(JSON.stringify(value));
}

/** The error a payload raised, with what a log would show of it. */
function refusal(payload: string) {
  try {
    decodeStripeEvent(payload);
  } catch (error) {
    if (!isPayError(error)) {
      throw error;
    }
    return { code: error.code, message: error.message, context: { ...error.context } };
  }
  throw new Error('the payload decoded');
}

describe('the envelope', () => {
  it('gives the event’s id, type, version, mode, creation time and object id', () => {
    expect(decode(event('payment_intent.succeeded', intent()))).toMatchObject({
      stripeEventId: 'evt_1',
      type: 'payment_intent.succeeded',
      apiVersion: '2026-10-28.endive',
      livemode: false,
      created: new Date((CREATED + 1) * 1000),
      objectId: 'pi_1',
    });
  });

  it('decodes Stripe’s pretty-printed bytes as well as compact ones', () => {
    const pretty = JSON.stringify(event('charge.succeeded', charge()), null, 2);
    expect(decodeStripeEvent(pretty).object.kind).toBe('charge');
  });

  it('acknowledges a type pay does not handle as other, whatever its object', () => {
    expect(decode(event('customer.created', { id: 'cus_1', object: 'customer', email: 'x' }))).toMatchObject({
      type: 'customer.created',
      objectId: 'cus_1',
      object: { kind: 'other' },
    });
    expect(decode(event('balance.available', { object: 'balance', available: [] })).objectId).toBeNull();
  });
});

describe('payment intent events', () => {
  it('decode the intent as the payment flow reads it, with pay’s ids', () => {
    const paymentId = newId('payment');
    const accountId = newId('account');
    const decoded = decode(
      event(
        'payment_intent.succeeded',
        intent({ metadata: { pay_payment_id: paymentId, pay_account_id: accountId } }),
      ),
    );
    expect(decoded.object).toEqual({
      kind: 'payment_intent',
      intent: {
        stripePaymentIntentId: 'pi_1',
        status: 'succeeded',
        amount: 2000,
        amountReceived: 2000,
        currency: 'usd',
        stripeCustomerId: 'cus_1',
        stripePaymentMethodId: 'pm_1',
        paymentId,
        accountId,
        redirectUrl: null,
        failure: null,
        created: new Date(CREATED * 1000),
      },
    });
  });

  it('decode a failure with its decline', () => {
    const decoded = decode(
      event(
        'payment_intent.payment_failed',
        intent({
          status: 'requires_payment_method',
          amount_received: 0,
          payment_method: null,
          last_payment_error: {
            type: 'card_error',
            code: 'card_declined',
            decline_code: 'insufficient_funds',
            message: 'Your card has insufficient funds.',
            payment_method: { id: 'pm_1', object: 'payment_method' },
          },
        }),
      ),
    );
    expect(decoded.object).toMatchObject({
      kind: 'payment_intent',
      intent: {
        status: 'failed',
        stripePaymentMethodId: null,
        failure: {
          code: 'card_declined',
          declineCode: 'insufficient_funds',
          message: 'Your card has insufficient funds.',
        },
      },
    });
  });

  it('decode a 3-D Secure step with its redirect, and expanded references by their ids', () => {
    const decoded = decode(
      event(
        'payment_intent.requires_action',
        intent({
          status: 'requires_action',
          amount_received: 0,
          customer: { id: 'cus_9', object: 'customer' },
          next_action: {
            type: 'redirect_to_url',
            redirect_to_url: { url: 'http://127.0.0.1/_sandbox/3ds/pi_1', return_url: 'https://pay.example' },
          },
        }),
      ),
    );
    expect(decoded.object).toMatchObject({
      kind: 'payment_intent',
      intent: {
        status: 'requires_action',
        stripeCustomerId: 'cus_9',
        redirectUrl: 'http://127.0.0.1/_sandbox/3ds/pi_1',
      },
    });
  });

  it.each([
    ['payment_intent.processing', 'processing', 'processing'],
    ['payment_intent.canceled', 'canceled', 'canceled'],
  ])('decode %s', (type, status, expected) => {
    expect(decode(event(type, intent({ status }))).object).toMatchObject({ intent: { status: expected } });
  });
});

describe('charge, refund and dispute events', () => {
  it('decode charge.refunded as the charge with Stripe’s refunded total', () => {
    expect(decode(event('charge.refunded', charge())).object).toEqual({
      kind: 'charge',
      charge: {
        stripeChargeId: 'ch_1',
        stripePaymentIntentId: 'pi_1',
        amount: 2000,
        amountCaptured: 2000,
        amountRefunded: 700,
        currency: 'usd',
        status: 'succeeded',
        created: new Date(CREATED * 1000),
      },
    });
  });

  it.each(['refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated'])(
    'decode %s as the refund',
    (type) => {
      const refundId = newId('refund');
      expect(decode(event(type, refund({ metadata: { pay_refund_id: refundId } }))).object).toMatchObject({
        kind: 'refund',
        refund: {
          stripeRefundId: 're_1',
          stripeChargeId: 'ch_1',
          amount: 700,
          status: 'succeeded',
          refundId,
        },
      });
    },
  );

  it('decode a failed refund with its reason', () => {
    const failed = refund({ status: 'failed', failure_reason: 'expired_or_canceled_card', metadata: null });
    expect(decode(event('refund.failed', failed)).object).toMatchObject({
      refund: { status: 'failed', failureReason: 'expired_or_canceled_card', refundId: null },
    });
  });

  it.each([
    ['charge.dispute.created', 'needs_response'],
    ['charge.dispute.closed', 'won'],
    ['charge.dispute.closed', 'lost'],
  ])('decode %s (%s) as the dispute', (type, status) => {
    expect(decode(event(type, dispute({ status }))).object).toEqual({
      kind: 'dispute',
      dispute: {
        stripeDisputeId: 'dp_1',
        stripeChargeId: 'ch_1',
        stripePaymentIntentId: 'pi_1',
        amount: 2000,
        currency: 'usd',
        reason: 'fraudulent',
        status,
        created: new Date(CREATED * 1000),
      },
    });
  });

  it('route each type to the object it carries', () => {
    expect(
      [
        'payment_intent.created',
        'charge.succeeded',
        'charge.updated',
        'charge.refund.updated',
        'charge.dispute.funds_withdrawn',
        'refund.created',
        'customer.updated',
        'payment_method.attached',
      ].map(eventObjectKind),
    ).toEqual(['payment_intent', 'charge', 'charge', 'refund', 'dispute', 'refund', 'other', 'other']);
  });
});

describe('a payload pay cannot read', () => {
  const SECRET_BITS = [CARD_HOLDER_EMAIL, '4242'];

  function expectRefused(payload: string, context: Record<string, unknown>) {
    const error = refusal(payload);
    expect(error).toMatchObject({ code: 'gateway_unknown_state', context });
    // What goes to the log names fields and ids, never the card holder's data.
    const logged = JSON.stringify(error);
    for (const bit of SECRET_BITS) {
      expect(logged).not.toContain(bit);
    }
  }

  it('is refused when it is not JSON, without quoting it', () => {
    expectRefused(`{"id": "evt_1", "email": "${CARD_HOLDER_EMAIL}", 4242`, {});
  });

  it('is refused when it is not an event', () => {
    expectRefused(JSON.stringify([1]), { field: 'event' });
    expectRefused(JSON.stringify({ ...event('charge.succeeded', charge()), object: 'list' }), {
      field: 'event.object',
      got: 'list',
    });
    expectRefused(JSON.stringify(event('charge.succeeded', charge(), { id: 'ch_1' })), { field: 'event.id' });
    expectRefused(JSON.stringify(event('charge.succeeded', charge(), { type: '' })), { field: 'event.type' });
    expectRefused(JSON.stringify(event('charge.succeeded', charge(), { data: {} })), {
      stripeEventId: 'evt_1',
      field: 'event.data.object',
    });
    expectRefused(JSON.stringify(event('charge.succeeded', charge(), { created: '1767225600' })), {
      field: 'event.created',
      got: 'a string',
    });
  });

  it('is refused when the object is not the one its type carries', () => {
    expectRefused(JSON.stringify(event('charge.refunded', refund())), {
      stripeEventId: 'evt_1',
      type: 'charge.refunded',
      field: 'event.data.object.object',
      expected: 'charge',
      got: 'refund',
    });
  });

  it('is refused, naming the field, when a field pay reads is missing or of another type', () => {
    expectRefused(JSON.stringify(event('charge.refunded', charge({ amount_refunded: 7.5 }))), {
      stripeEventId: 'evt_1',
      field: 'event.data.object.amount_refunded',
      got: 'a fraction',
    });
    expectRefused(JSON.stringify(event('refund.created', refund({ charge: undefined }))), {
      field: 'event.data.object.charge',
      got: 'missing',
    });
    expectRefused(JSON.stringify(event('charge.dispute.created', dispute({ charge: null }))), {
      field: 'event.data.object.charge',
      got: 'null',
    });
    expectRefused(
      JSON.stringify(event('payment_intent.succeeded', intent({ metadata: { pay_payment_id: 4242 } }))),
      { field: 'event.data.object.metadata.pay_payment_id', got: 'a number' },
    );
  });

  it('is refused with the event’s id when a status or currency is unknown, rather than guessed', () => {
    expectRefused(JSON.stringify(event('payment_intent.succeeded', intent({ status: 'requires_capture' }))), {
      stripeEventId: 'evt_1',
      type: 'payment_intent.succeeded',
      stripePaymentIntentId: 'pi_1',
    });
    expectRefused(JSON.stringify(event('charge.updated', charge({ status: 'reversed' }))), {
      stripeEventId: 'evt_1',
      stripeChargeId: 'ch_1',
      stripeStatus: 'reversed',
    });
    expectRefused(JSON.stringify(event('charge.dispute.updated', dispute({ status: 'charge_refunded' }))), {
      stripeEventId: 'evt_1',
      stripeDisputeId: 'dp_1',
    });
    expectRefused(JSON.stringify(event('refund.updated', refund({ currency: 'xxx' }))), {
      stripeEventId: 'evt_1',
      currency: 'xxx',
    });
  });
});
