import { refundHarness, type RefundHarness } from '../../test/memory/refund-harness.js';
import type { Payment } from '../domain/entities.js';
import {
  IdempotencyKeyInUseError,
  IdempotencyKeyReusedError,
  InvalidStateError,
  NotFoundError,
  RefundExceedsCapturedError,
  ValidationError,
} from '../errors.js';

/*
 * Refunds through pay (issue 7): full and partial refunds move the payment by its state machine, the sum
 * of refunds never passes what was captured (even 50 at once), a refusal writes nothing and sends
 * nothing, every command leaves one audit row, and the idempotency key behaves as for payments.
 */

function paymentMoves(h: RefundHarness, paymentId: Payment['id']) {
  return h.memory.tables.paymentEvents
    .filter((e) => e.paymentId === paymentId && e.fromStatus !== null && e.fromStatus !== 'pending')
    .map((e) => ({ from: e.fromStatus, to: e.toStatus, amount: e.amount, cause: e.cause }));
}

const KEY = 'refund-key-0001-abcdefghijkl';

describe('RefundService.create', () => {
  it('refunds all that remains by default: the refund succeeds at Stripe and the payment is refunded', async () => {
    const h = await refundHarness();
    const { payment, intentId } = await h.pay();
    const attempt = await h.refunds().create(...h.request(KEY, { paymentId: payment.id }));
    expect(attempt.replayed).toBe(false);
    expect(attempt.refund).toMatchObject({
      paymentId: payment.id,
      amount: 2_000,
      status: 'succeeded',
      origin: 'pay',
      requestedBy: h.admin.id,
      stripeIdempotencyKey: `pay:${attempt.refund.id}`,
    });
    expect(attempt.payment).toMatchObject({ id: payment.id, status: 'refunded', amountRefunded: 2_000 });
    expect(h.payment(payment.id)).toMatchObject({ status: 'refunded', amountRefunded: 2_000 });
    const atStripe = h.stripe.allRefunds();
    expect(atStripe).toEqual([
      expect.objectContaining({
        amount: 2_000,
        refundId: attempt.refund.id,
        stripePaymentIntentId: intentId,
      }),
    ]);
    expect(attempt.refund.stripeRefundId).toBe(atStripe[0]?.stripeRefundId);
    expect(h.stripe.calls.filter((c) => c.method === 'createRefund')).toEqual([
      expect.objectContaining({ idempotencyKey: `pay:${attempt.refund.id}:create_refund` }),
    ]);
    expect(paymentMoves(h, payment.id)).toEqual([
      {
        from: 'succeeded',
        to: 'refunded',
        amount: 2_000,
        cause: { requestId: 'req_refund_1', refundId: attempt.refund.id },
      },
    ]);
    expect(h.refundCallsInTransaction).toEqual([]);
    expect(h.refundGatewayCalls).toEqual([{ call: 'create_refund', outcome: 'ok' }]);
  });

  it('takes several partial refunds, moving the payment succeeded → partially_refunded → refunded', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const service = h.refunds();
    const first = await service.create(...h.request(`${KEY}-a`, { paymentId: payment.id, amount: 500 }));
    expect(first.payment).toMatchObject({ status: 'partially_refunded', amountRefunded: 500 });
    h.clock.advance(1_000);
    const second = await service.create(...h.request(`${KEY}-b`, { paymentId: payment.id, amount: 700 }));
    expect(second.payment).toMatchObject({ status: 'partially_refunded', amountRefunded: 1_200 });
    h.clock.advance(1_000);
    const rest = await service.create(...h.request(`${KEY}-c`, { paymentId: payment.id }));
    expect(rest.refund.amount).toBe(800);
    expect(rest.payment).toMatchObject({ status: 'refunded', amountRefunded: 2_000 });
    expect(paymentMoves(h, payment.id).map(({ from, to, amount }) => [from, to, amount])).toEqual([
      ['succeeded', 'partially_refunded', 500],
      ['partially_refunded', 'partially_refunded', 700],
      ['partially_refunded', 'refunded', 800],
    ]);
    expect((await service.listByPayment(h.account.id, payment.id)).map((r) => r.amount)).toEqual([
      800, 700, 500,
    ]);
    expect(await service.get(h.account.id, first.refund.id)).toEqual(first.refund);
    expect(h.stripe.chargeOf(payment.stripePaymentIntentId ?? '').amountRefunded).toBe(2_000);
  });

  it('refuses more than remains with 422 refund_exceeds_captured, writing nothing and sending nothing', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const service = h.refunds();
    await service.create(...h.request(`${KEY}-a`, { paymentId: payment.id, amount: 1_500 }));
    const before = h.counts();
    const calls = h.stripe.count();

    const tooMuch = service.create(...h.request(`${KEY}-b`, { paymentId: payment.id, amount: 501 }));
    await expect(tooMuch).rejects.toBeInstanceOf(RefundExceedsCapturedError);
    await expect(tooMuch).rejects.toMatchObject({
      code: 'refund_exceeds_captured',
      message: expect.stringContaining('500 usd minor units') as unknown,
    });
    expect(h.counts()).toEqual(before);
    expect(h.stripe.count()).toBe(calls);

    // The same key then works for a corrected request: nothing was stored under it.
    const ok = await service.create(...h.request(`${KEY}-b`, { paymentId: payment.id, amount: 500 }));
    expect(ok.payment).toMatchObject({ status: 'refunded', amountRefunded: 2_000 });
    await expect(service.create(...h.request(`${KEY}-c`, { paymentId: payment.id }))).rejects.toMatchObject({
      code: 'refund_exceeds_captured',
      message: expect.stringContaining('nothing left') as unknown,
    });
  });

  it('refuses bad input before reading or writing anything', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const other = await h.memory.store.repos.accounts.create({ name: 'Other' });
    const service = h.refunds();
    const before = h.counts();
    for (const amount of [0, -5, 1.5, Number.NaN, 2 ** 60]) {
      await expect(
        service.create(...h.request(KEY, { paymentId: payment.id, amount })),
      ).rejects.toMatchObject({ code: 'invalid_request', param: 'amount' });
    }
    await expect(
      service.create(...h.request(KEY, { paymentId: payment.id, amount: 100_000_000 })),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      service.create(...h.request(KEY, { paymentId: payment.id, reason: 'x'.repeat(501) })),
    ).rejects.toMatchObject({ code: 'invalid_request', param: 'reason' });
    await expect(service.create(...h.request(KEY, { paymentId: 'pay_nope' }))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    // Another account's payment is simply not found (BOLA: 404, not 403).
    await expect(
      service.create({ accountId: other.id, paymentId: payment.id }, h.admin, {
        ...h.request(KEY, { paymentId: payment.id })[2],
        accountId: other.id,
      }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.get(other.id, 'rfnd_0000000000aaaaaaaaaaaaaaaa')).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(service.listByPayment(other.id, payment.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(h.counts()).toEqual(before);
    expect(h.stripe.count('createRefund')).toBe(0);
  });

  it('answers 409 for a payment that captured nothing, writing nothing', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay('pm_card_chargeCustomerFail');
    expect(payment.status).toBe('failed');
    const before = h.counts();
    await expect(h.refunds().create(...h.request(KEY, { paymentId: payment.id }))).rejects.toBeInstanceOf(
      InvalidStateError,
    );
    await expect(
      h.refunds().preview({ accountId: h.account.id, paymentId: payment.id }),
    ).rejects.toMatchObject({
      code: 'invalid_state',
    });
    expect(h.counts()).toEqual(before);
  });

  it('writes one audit row per refund, in its transaction, with who, how much, why and the amounts before and after', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const service = h.refunds();
    await service.create(...h.request(`${KEY}-a`, { paymentId: payment.id, amount: 300 }));
    const [input, actor, request] = h.request(
      `${KEY}-b`,
      { paymentId: payment.id, amount: 400, reason: 'requested_by_customer' },
      { actor: h.secondAdmin },
    );
    const second = await service.create(input, actor, request);
    expect(h.memory.tables.audit).toHaveLength(2);
    expect(h.memory.tables.audit[1]).toMatchObject({
      accountId: h.account.id,
      actorType: 'api_key',
      actorId: h.secondAdmin.id,
      action: 'refund.requested',
      targetType: 'refund',
      targetId: second.refund.id,
      amount: 400,
      currency: 'usd',
      requestId: request.requestId,
      details: {
        paymentId: payment.id,
        reason: 'requested_by_customer',
        status: 'pending',
        paymentAmount: 2_000,
        amountRefundedBefore: 300,
        reservedBefore: 300,
        reservedAfter: 700,
      },
    });
    // Stripe's own reason is passed on; another text stays in pay's audit log only.
    expect(h.stripe.allRefunds().map((r) => r.reason)).toEqual([null, 'requested_by_customer']);
  });

  it('replays the stored answer for the same key, refuses other parameters (422) and a key still running (409)', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const service = h.refunds();
    const [input, , request] = h.request(KEY, { paymentId: payment.id, amount: 600 });
    const release = h.holdNextCreate();
    const running = service.create(input, h.admin, request);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(
      service.create(input, h.admin, { ...request, requestId: 'req_retry' }),
    ).rejects.toBeInstanceOf(IdempotencyKeyInUseError);
    release();
    const first = await running;

    const replay = await service.create(input, h.admin, { ...request, requestId: 'req_retry_2' });
    expect(replay).toEqual({ ...first, replayed: true });
    const otherParams = h.request(KEY, { paymentId: payment.id, amount: 601 });
    await expect(service.create(...otherParams)).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect(h.stripe.count('createRefund')).toBe(1);
    expect(h.memory.tables.refunds).toHaveLength(1);
    expect(h.memory.tables.audit).toHaveLength(1);
  });

  it('never refunds more than was captured when 50 admins refund 300 of 10,000 at once', async () => {
    const h = await refundHarness();
    const { payment, intentId } = await h.payOf(10_000);
    const service = h.refunds();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        service.create(...h.request(`${KEY}-concurrent-${i}`, { paymentId: payment.id, amount: 300 })),
      ),
    );
    const succeeded = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    expect(succeeded).toHaveLength(33);
    expect(refused).toHaveLength(17);
    for (const error of refused) {
      expect(error).toBeInstanceOf(RefundExceedsCapturedError);
    }
    const refunds = h.memory.tables.refunds.filter((r) => r.paymentId === payment.id);
    expect(refunds.reduce((sum, r) => sum + r.amount, 0)).toBe(9_900);
    expect(h.stripe.chargeOf(intentId).amountRefunded).toBe(9_900);
    expect(h.payment(payment.id)).toMatchObject({ status: 'partially_refunded', amountRefunded: 9_900 });
    expect(h.memory.tables.audit.filter((a) => a.action === 'refund.requested')).toHaveLength(33);
    // The last 100 is still refundable, and no more.
    const preview = await service.preview({ accountId: h.account.id, paymentId: payment.id });
    expect(preview).toMatchObject({ amount: 100, remaining: 100, requiresApproval: false });
  });

  it('previews a refund without writing: the amount, what remains, and whether it needs approval', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const before = h.counts();
    const service = h.refunds({ approvalThreshold: 1_000 });
    expect(
      await service.preview({ accountId: h.account.id, paymentId: payment.id, amount: 400 }),
    ).toMatchObject({
      payment: { id: payment.id },
      amount: 400,
      remaining: 2_000,
      requiresApproval: false,
    });
    expect(await service.preview({ accountId: h.account.id, paymentId: payment.id })).toMatchObject({
      amount: 2_000,
      requiresApproval: true,
    });
    await expect(
      service.preview({ accountId: h.account.id, paymentId: payment.id, amount: 2_001 }),
    ).rejects.toBeInstanceOf(RefundExceedsCapturedError);
    expect(h.counts()).toEqual(before);
  });
});
