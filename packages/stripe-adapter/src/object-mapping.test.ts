import { GATEWAY_DISPUTE_STATUSES, isPayError, newId } from '@pay/core';
import { mapChargeStatus, toGatewayCharge, type ChargeFields } from './charge-mapping.js';
import { mapDisputeStatus, toGatewayDispute, type DisputeFields } from './dispute-mapping.js';
import { mapRefundStatus, METADATA_REFUND_ID, toGatewayRefund, type RefundFields } from './refund-mapping.js';

/* Charges, refunds and disputes in core's words: every Stripe status mapped, none guessed. */

function errorOf(run: () => unknown): { code: string; context: Record<string, unknown> } {
  try {
    run();
  } catch (error) {
    return isPayError(error)
      ? { code: error.code, context: { ...error.context } }
      : { code: String(error), context: {} };
  }
  return { code: 'no error', context: {} };
}

const CREATED = 1_767_225_600;

function charge(fields: Partial<ChargeFields> = {}): ChargeFields {
  return {
    id: 'ch_1',
    payment_intent: 'pi_1',
    amount: 2000,
    amount_captured: 2000,
    amount_refunded: 500,
    currency: 'usd',
    status: 'succeeded',
    created: CREATED,
    ...fields,
  };
}

function refund(fields: Partial<RefundFields> = {}): RefundFields {
  return {
    id: 're_1',
    payment_intent: 'pi_1',
    charge: 'ch_1',
    amount: 500,
    currency: 'usd',
    status: 'succeeded',
    reason: 'requested_by_customer',
    metadata: {},
    created: CREATED,
    ...fields,
  };
}

function dispute(fields: Partial<DisputeFields> = {}): DisputeFields {
  return {
    id: 'dp_1',
    charge: 'ch_1',
    payment_intent: 'pi_1',
    amount: 2000,
    currency: 'usd',
    reason: 'fraudulent',
    status: 'needs_response',
    created: CREATED,
    ...fields,
  };
}

describe('charges', () => {
  it('keep Stripe’s running refunded total and the intent they belong to', () => {
    expect(toGatewayCharge(charge())).toEqual({
      stripeChargeId: 'ch_1',
      stripePaymentIntentId: 'pi_1',
      amount: 2000,
      amountCaptured: 2000,
      amountRefunded: 500,
      currency: 'usd',
      status: 'succeeded',
      created: new Date(CREATED * 1000),
    });
  });

  it.each(['succeeded', 'pending', 'failed'] as const)('map status %s to itself', (status) => {
    expect(mapChargeStatus(charge({ status }))).toBe(status);
  });

  it('refuse a status this SDK does not know, naming the charge', () => {
    expect(errorOf(() => mapChargeStatus(charge({ status: 'reversed' })))).toEqual({
      code: 'gateway_unknown_state',
      context: { stripeChargeId: 'ch_1', stripeStatus: 'reversed' },
    });
  });

  it('refuse a currency pay does not know', () => {
    expect(errorOf(() => toGatewayCharge(charge({ currency: 'xxx' }))).code).toBe('gateway_unknown_state');
  });

  it('read a charge without an intent with a null intent id', () => {
    expect(toGatewayCharge(charge({ payment_intent: null })).stripePaymentIntentId).toBeNull();
  });
});

describe('refunds', () => {
  it('carry pay’s refund id from their metadata', () => {
    const refundId = newId('refund');
    expect(toGatewayRefund(refund({ metadata: { [METADATA_REFUND_ID]: refundId } }))).toEqual({
      stripeRefundId: 're_1',
      stripePaymentIntentId: 'pi_1',
      stripeChargeId: 'ch_1',
      amount: 500,
      currency: 'usd',
      status: 'succeeded',
      reason: 'requested_by_customer',
      failureReason: null,
      refundId,
      created: new Date(CREATED * 1000),
    });
  });

  it('made in the dashboard have no refund id, nor one whose metadata is not a well-formed rfnd_ id', () => {
    for (const metadata of [null, {}, { [METADATA_REFUND_ID]: 'rfnd_' }, { [METADATA_REFUND_ID]: 'pay_x' }]) {
      expect(toGatewayRefund(refund({ metadata })).refundId).toBeNull();
    }
  });

  it.each([
    ['pending', 'pending'],
    ['requires_action', 'pending'],
    ['succeeded', 'succeeded'],
    ['failed', 'failed'],
    ['canceled', 'canceled'],
  ] as const)('map status %s to %s', (status, expected) => {
    expect(mapRefundStatus(refund({ status }))).toBe(expected);
  });

  it('refuse a missing or unknown status rather than guess', () => {
    for (const status of [null, 'reversed']) {
      expect(errorOf(() => mapRefundStatus(refund({ status })))).toEqual({
        code: 'gateway_unknown_state',
        context: { stripeRefundId: 're_1', stripeStatus: status },
      });
    }
  });

  it('keep why a refund failed', () => {
    const failed = toGatewayRefund(refund({ status: 'failed', failure_reason: 'expired_or_canceled_card' }));
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'expired_or_canceled_card' });
  });
});

describe('disputes', () => {
  it('keep the charge, the intent, the amount and the reason', () => {
    expect(toGatewayDispute(dispute())).toEqual({
      stripeDisputeId: 'dp_1',
      stripeChargeId: 'ch_1',
      stripePaymentIntentId: 'pi_1',
      amount: 2000,
      currency: 'usd',
      reason: 'fraudulent',
      status: 'needs_response',
      created: new Date(CREATED * 1000),
    });
  });

  it.each(GATEWAY_DISPUTE_STATUSES)('map status %s to itself', (status) => {
    expect(mapDisputeStatus(dispute({ status }))).toBe(status);
  });

  it.each(['charge_refunded', 'reversed'])(
    'refuse %s, which pay has no word for, rather than guess',
    (status) => {
      expect(errorOf(() => mapDisputeStatus(dispute({ status })))).toEqual({
        code: 'gateway_unknown_state',
        context: { stripeDisputeId: 'dp_1', stripeStatus: status },
      });
    },
  );
});
