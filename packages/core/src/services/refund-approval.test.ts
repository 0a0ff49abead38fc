import { refundHarness } from '../../test/memory/refund-harness.js';
import { ForbiddenError, IdempotencyKeyReusedError, InvalidStateError, NotFoundError } from '../errors.js';

/*
 * Four eyes (issue 7): a refund above PAY_REFUND_APPROVAL_THRESHOLD waits as `requires_approval`, with
 * nothing sent to Stripe, until a second, different admin approves it. Every command and every refusal
 * leaves its audit row.
 */

const KEY = 'approval-key-0001-abcdefghij';

describe('refund approval', () => {
  it('parks a refund above the threshold as requires_approval, sending nothing, and replays that answer', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const service = h.refunds({ approvalThreshold: 1_000 });
    const args = h.request(KEY, { paymentId: payment.id, amount: 1_001 });
    const parked = await service.create(...args);
    expect(parked).toMatchObject({
      replayed: false,
      refund: { status: 'requires_approval', amount: 1_001, stripeRefundId: null, requestedBy: h.admin.id },
      payment: { status: 'succeeded', amountRefunded: 0 },
    });
    expect(h.stripe.count('createRefund')).toBe(0);
    expect(await service.create(...args)).toEqual({ ...parked, replayed: true });
    // A refund at the threshold is not above it.
    const small = await service.create(...h.request(`${KEY}-small`, { paymentId: payment.id, amount: 999 }));
    expect(small.refund.status).toBe('succeeded');
    // The parked amount is reserved: only what is left may be asked for meanwhile.
    await expect(
      service.create(...h.request(`${KEY}-more`, { paymentId: payment.id, amount: 1 })),
    ).rejects.toMatchObject({ code: 'refund_exceeds_captured' });
  });

  it('refuses the approval of the admin who asked (403, audited as denied), and sends it once a second admin approves', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const service = h.refunds({ approvalThreshold: 500 });
    const parked = await service.create(...h.request(KEY, { paymentId: payment.id }));
    const refundId = parked.refund.id;

    const self = service.approve(...h.approval(`${KEY}-self`, refundId, h.admin));
    await expect(self).rejects.toBeInstanceOf(ForbiddenError);
    await expect(self).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('a second, different admin must approve') as unknown,
    });
    expect(h.memory.tables.refunds.find((r) => r.id === refundId)?.status).toBe('requires_approval');
    expect(h.stripe.count('createRefund')).toBe(0);

    const approved = await service.approve(...h.approval(`${KEY}-second`, refundId, h.secondAdmin));
    expect(approved).toMatchObject({
      replayed: false,
      refund: { id: refundId, status: 'succeeded', approvedBy: h.secondAdmin.id, requestedBy: h.admin.id },
      payment: { status: 'refunded', amountRefunded: 2_000 },
    });
    expect(h.stripe.allRefunds()).toEqual([expect.objectContaining({ refundId, amount: 2_000 })]);
    expect(
      h.memory.tables.refundEvents.filter((e) => e.refundId === refundId).map((e) => e.toStatus),
    ).toEqual(['requires_approval', 'pending', 'succeeded']);

    // One audit row per command, the refusal included.
    expect(h.memory.tables.audit.map((a) => [a.action, a.actorId, a.targetId])).toEqual([
      ['refund.requested', h.admin.id, refundId],
      ['refund.denied', h.admin.id, refundId],
      ['refund.approved', h.secondAdmin.id, refundId],
    ]);
    expect(h.memory.tables.audit[1]?.details).toMatchObject({
      attempted: 'refund.approve',
      outcome: 'denied',
    });
    expect(h.memory.tables.audit[2]).toMatchObject({
      amount: 2_000,
      currency: 'usd',
      details: {
        paymentId: payment.id,
        amountRefundedBefore: 0,
        reservedBefore: 2_000,
        reservedAfter: 2_000,
      },
    });
  });

  it('answers 409 for a refund that does not wait for approval, and 404 for another account’s', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    const service = h.refunds({ approvalThreshold: 500 });
    const parked = await service.create(...h.request(KEY, { paymentId: payment.id }));
    const args = h.approval(`${KEY}-a`, parked.refund.id, h.secondAdmin);
    await service.approve(...args);
    // The same key replays; a new approval of the approved refund is refused.
    expect((await service.approve(...args)).replayed).toBe(true);
    await expect(
      service.approve(...h.approval(`${KEY}-b`, parked.refund.id, h.secondAdmin)),
    ).rejects.toBeInstanceOf(InvalidStateError);
    await expect(
      service.approve(...h.approval(`${KEY}-a`, 'rfnd_0000000000aaaaaaaaaaaaaaaa', h.secondAdmin)),
    ).rejects.toBeInstanceOf(NotFoundError);
    const other = await h.memory.store.repos.accounts.create({ name: 'Other' });
    const [, actor, request] = h.approval(`${KEY}-c`, parked.refund.id, h.secondAdmin);
    await expect(
      service.approve({ accountId: other.id, refundId: parked.refund.id }, actor, {
        ...request,
        accountId: other.id,
      }),
    ).rejects.toBeInstanceOf(NotFoundError);
    // An approval's key reused on a create is a reuse (another path).
    await expect(
      service.create(
        ...h.request(`${KEY}-a`, { paymentId: payment.id }, { request: { path: '/api/v1/refunds' } }),
      ),
    ).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('audits a refused admin action of a service key', async () => {
    const h = await refundHarness();
    const { payment } = await h.pay();
    await h.refunds().recordDenied({
      accountId: h.account.id,
      actor: { type: 'api_key', id: 'key_service', requestId: 'req_denied' },
      attempted: 'refund.create',
      targetId: payment.id,
      reason: 'role: service keys may not refund',
    });
    expect(h.memory.tables.audit).toEqual([
      expect.objectContaining({
        action: 'refund.denied',
        actorId: 'key_service',
        targetType: 'payment',
        targetId: payment.id,
        requestId: 'req_denied',
        details: {
          attempted: 'refund.create',
          outcome: 'denied',
          reason: 'role: service keys may not refund',
        },
      }),
    ]);
    expect(h.memory.tables.refunds).toEqual([]);
  });
});
