import { newId } from '@pay/core';
import {
  assertInvariants,
  checkInvariants,
  checkK1,
  checkK2,
  checkK3,
  checkK4,
  checkK5,
  InvariantViolationError,
  readSandboxLedger,
  readSandboxRequests,
  type Invariant,
  type Violation,
} from '../src/index.js';
import { openBuilder, type Builder } from './support/world-builder.js';

let b: Builder;

beforeAll(async () => {
  b = await openBuilder();
});
afterAll(async () => {
  await b.close();
});
beforeEach(async () => {
  await b.reset();
});

/** The violations of one invariant, as `objectId: message` lines a failure prints in full. */
function lines(violations: readonly Violation[], invariant?: Invariant): string[] {
  return violations
    .filter((v) => invariant === undefined || v.invariant === invariant)
    .map((v) => `${v.invariant} ${v.objectId}: ${v.message}`);
}

/** A payment that succeeded in the sandbox and says so in pay, with its two event rows. */
async function succeededPayment(amount = 1_000): Promise<{ paymentId: string; intentId: string }> {
  const paymentId = newId('payment');
  const intent = await b.createIntent(paymentId, { amount });
  expect(intent.status).toBe('succeeded');
  await b.insertPayment({ id: paymentId, status: 'succeeded', amount, intentId: intent.id });
  return { paymentId, intentId: intent.id };
}

describe('on a state a correct pay leaves behind', () => {
  it('finds no violation, and says how much it looked at', async () => {
    await succeededPayment();

    // Partly refunded: the refund exists in both, the payment's events carry the amount refunded.
    const refundedId = newId('payment');
    const refundedIntent = await b.createIntent(refundedId, { amount: 2_000 });
    const stripeRefund = await b.stripe.refunds.create({ payment_intent: refundedIntent.id, amount: 500 });
    await b.insertPayment({
      id: refundedId,
      status: 'partially_refunded',
      amount: 2_000,
      amountRefunded: 500,
      intentId: refundedIntent.id,
    });
    await b.insertRefund({
      paymentId: refundedId,
      amount: 500,
      status: 'succeeded',
      stripeRefundId: stripeRefund.id,
    });

    // Declined by the card's bank: the intent is back in requires_payment_method with the reason.
    const declinedId = newId('payment');
    const declined = await b.createIntent(declinedId, { paymentMethod: 'pm_card_chargeDeclined' });
    expect(declined.last_payment_error).not.toBeNull();
    await b.insertPayment({ id: declinedId, status: 'failed', intentId: declined.id });

    // Waiting for the card holder's 3-D Secure: legitimately not final.
    const actionId = newId('payment');
    const action = await b.createIntent(actionId, { paymentMethod: 'pm_card_threeDSecure2Required' });
    expect(action.status).toBe('requires_action');
    await b.insertPayment({ id: actionId, status: 'requires_action', intentId: action.id });

    // Stopped before Stripe was called, then failed by recovery: no intent anywhere.
    await b.insertPayment({ status: 'failed', intentId: null });

    await b.insertSubscription('active', [
      [null, 'incomplete'],
      ['incomplete', 'active'],
    ]);
    await b.insertKey({ lockedAt: null, responseStatus: 201, recoveryPoint: 'finished' });

    const report = await checkInvariants(b.ctx);
    expect(lines(report.violations)).toEqual([]);
    expect(report).toMatchObject({
      ok: true,
      checked: {
        payments: 5,
        refunds: 1,
        subscriptions: 1,
        idempotencyKeys: 1,
        paymentIntents: 4,
        charges: 3,
        stripeRefunds: 1,
      },
    });
    await expect(assertInvariants(b.ctx)).resolves.toMatchObject({ ok: true });
  });

  it('reads the ledger and the request log over HTTP, as a test in another process would', async () => {
    const { intentId } = await succeededPayment();
    const account = b.sandbox.accountIdForKey(b.ctx.sandbox.secretKey);
    const intents = await readSandboxLedger(b.sandbox.url, { kind: 'payment_intent', account });
    expect(intents.map((o) => o.id)).toEqual([intentId]);
    const creates = await readSandboxRequests(b.sandbox.url, {
      method: 'POST',
      path: '/v1/payment_intents',
      account,
    });
    expect(creates).toHaveLength(1);
    expect(creates[0]).toMatchObject({ status: 200, replayed: false, faults: [] });
  });
});

describe('K1: one intent and one charge per payment', () => {
  it('catches two intents for one payment, each with a charge', async () => {
    const { paymentId, intentId } = await succeededPayment();
    const second = await b.createIntent(paymentId);

    const k1 = await checkK1(b.ctx);
    expect(lines(k1)).toEqual([
      `K1 ${paymentId}: 2 PaymentIntents name this payment, at most 1 may`,
      `K1 ${paymentId}: 2 successful charges in the sandbox, at most 1 may`,
    ]);
    expect(k1[0]?.details).toEqual({ intents: expect.arrayContaining([intentId, second.id]) });
  });

  it('catches an intent for a payment pay does not have, and one that names no payment', async () => {
    const ghost = newId('payment');
    const orphan = await b.createIntent(ghost);
    const anonymous = await b.stripe.paymentIntents.create({ amount: 700, currency: 'usd' });

    expect(lines(await checkK1(b.ctx))).toEqual([
      `K1 ${anonymous.id}: PaymentIntent has no pay_payment_id in its metadata: no pay payment accounts for it`,
      `K1 ${ghost}: the sandbox holds 1 PaymentIntent(s) for a payment pay does not have`,
    ]);
    expect(orphan.metadata.pay_payment_id).toBe(ghost);
  });

  it('accepts a canceled orphan: it moved no money, and Stripe cannot delete it (reconciliation cancels it)', async () => {
    const before = lines(await checkK1(b.ctx));
    const unpaid = await b.stripe.paymentIntents.create({
      amount: 700,
      currency: 'usd',
      metadata: { pay_payment_id: newId('payment') },
    });
    expect(lines(await checkK1(b.ctx))).toHaveLength(before.length + 1);
    await b.stripe.paymentIntents.cancel(unpaid.id);
    expect(lines(await checkK1(b.ctx))).toEqual(before);
  });

  it('catches a payment that records an intent the sandbox does not have', async () => {
    const paymentId = await b.insertPayment({ status: 'succeeded', intentId: 'pi_doesnotexist' });
    expect(lines(await checkK1(b.ctx))).toEqual([
      `K1 ${paymentId}: records PaymentIntent pi_doesnotexist, which the sandbox does not have`,
    ]);
  });
});

describe("K2: statuses equal the sandbox's", () => {
  it("catches a status that differs from the intent's", async () => {
    const paymentId = newId('payment');
    const intent = await b.createIntent(paymentId);
    await b.insertPayment({ id: paymentId, status: 'failed', intentId: intent.id });

    expect(lines(await checkK2(b.ctx))).toEqual([
      `K2 ${paymentId}: status differs: pay says failed, the sandbox's ${intent.id} maps to succeeded`,
    ]);
  });

  it('catches a payment left pending, and one pending without any intent', async () => {
    const paymentId = newId('payment');
    const intent = await b.createIntent(paymentId);
    await b.insertPayment({ id: paymentId, status: 'pending', intentId: intent.id });
    const lonely = await b.insertPayment({ status: 'pending', intentId: null });

    const k2 = lines(await checkK2(b.ctx));
    expect(k2).toEqual(
      expect.arrayContaining([
        `K2 ${paymentId}: is still pending after recovery (sandbox: succeeded)`,
        `K2 ${paymentId}: status differs: pay says pending, the sandbox's ${intent.id} maps to succeeded`,
        `K2 ${lonely}: is pending but has no PaymentIntent in the sandbox: it should have been failed or canceled`,
      ]),
    );
    expect(k2).toHaveLength(3);
  });

  it('catches amount_refunded that differs, and a sandbox refund pay never recorded', async () => {
    const paymentId = newId('payment');
    const intent = await b.createIntent(paymentId);
    const refund = await b.stripe.refunds.create({ payment_intent: intent.id, amount: 400 });
    await b.insertPayment({ id: paymentId, status: 'succeeded', intentId: intent.id });

    expect(lines(await checkK2(b.ctx))).toEqual([
      `K2 ${paymentId}: status differs: pay says succeeded, the sandbox's ${intent.id} maps to partially_refunded`,
      `K2 ${paymentId}: amount_refunded differs: pay says 0, the sandbox's charges 400`,
      `K2 ${paymentId}: the sandbox refunded 400 (${refund.id}, succeeded) but pay has no such refund`,
    ]);
  });
});

describe('K3: refunds never exceed what was captured', () => {
  it('catches refunds in pay that add up to more than the payment', async () => {
    const { paymentId } = await succeededPayment(1_000);
    await b.insertRefund({ paymentId, amount: 600, status: 'succeeded' });
    await b.insertRefund({ paymentId, amount: 600, status: 'pending' });
    // A failed refund gave its amount back: it does not count.
    await b.insertRefund({ paymentId, amount: 900, status: 'failed' });

    const k3 = await checkK3(b.ctx);
    expect(lines(k3)).toEqual([`K3 ${paymentId}: pay's refunds total 1200, more than the 1000 captured`]);
  });

  it('passes refunds that add up to exactly what was captured', async () => {
    const { paymentId } = await succeededPayment(1_000);
    await b.insertRefund({ paymentId, amount: 600, status: 'succeeded' });
    await b.insertRefund({ paymentId, amount: 400, status: 'succeeded' });
    expect(await checkK3(b.ctx)).toEqual([]);
  });
});

describe('K4: one event row per change', () => {
  it('catches a change without its event row', async () => {
    const paymentId = newId('payment');
    const intent = await b.createIntent(paymentId);
    await b.insertPayment({
      id: paymentId,
      status: 'succeeded',
      intentId: intent.id,
      events: [[null, 'pending']],
    });

    expect(lines(await checkK4(b.ctx))).toEqual([
      `K4 ${paymentId}: its events end at pending but the row is succeeded: a change has no event row`,
    ]);
  });

  it('catches an event row written twice, a missing creation row, and a replay that does not add up', async () => {
    const twice = await b.insertPayment({
      status: 'succeeded',
      intentId: null,
      events: [
        [null, 'pending'],
        ['pending', 'succeeded', 1_000],
        ['pending', 'succeeded', 1_000],
      ],
    });
    const headless = await b.insertPayment({ status: 'failed', events: [['pending', 'failed']] });
    const refunded = await b.insertPayment({
      status: 'partially_refunded',
      amountRefunded: 300,
      events: [
        [null, 'pending'],
        ['pending', 'succeeded', 1_000],
        ['succeeded', 'partially_refunded', 200],
      ],
    });
    const noEvents = await b.insertSubscription('active', []);

    const k4 = lines(await checkK4(b.ctx));
    expect(k4).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^K4 ${twice}: event seq \\d+ moves from pending but the one before ended at succeeded: a change is missing or written twice$`,
          ),
        ),
        `K4 ${headless}: its first event moves from pending, not from creation`,
        `K4 ${refunded}: replaying its events refunds 200, but amount_refunded is 300`,
        `K4 ${noEvents}: has no event rows, but is active`,
      ]),
    );
    expect(k4).toHaveLength(4);
  });
});

describe('K5: no idempotency key left behind', () => {
  it('catches a locked key and a key without its response', async () => {
    await b.insertKey({ lockedAt: null, responseStatus: 201, recoveryPoint: 'finished' });
    const locked = await b.insertKey({
      lockedAt: new Date('2030-01-02T03:04:05.000Z'),
      responseStatus: null,
      recoveryPoint: 'intent_created',
    });
    const unlocked = await b.insertKey({ lockedAt: null, responseStatus: null, recoveryPoint: 'started' });

    // Two ids made in the same millisecond sort by their random part: compare as sets.
    expect(lines(await checkK5(b.ctx)).sort()).toEqual(
      [
        `K5 ${locked}: is still locked (since 2030-01-02T03:04:05.000Z) at recovery point intent_created`,
        `K5 ${locked}: has no stored response: its flow stopped at recovery point intent_created`,
        `K5 ${unlocked}: has no stored response: its flow stopped at recovery point started`,
      ].sort(),
    );
  });
});

describe('assertInvariants', () => {
  it('throws a message that names each invariant, object and difference', async () => {
    const { paymentId } = await succeededPayment();
    await b.createIntent(paymentId);
    const key = await b.insertKey({ lockedAt: new Date(), responseStatus: null, recoveryPoint: 'started' });

    const error: unknown = await assertInvariants(b.ctx).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvariantViolationError);
    const { message, report } = error as InvariantViolationError;
    expect(report.ok).toBe(false);
    expect(message).toMatch(/^\d+ invariant violation\(s\) \(checked 1 payments, /);
    expect(message).toContain(`K1 — at most one PaymentIntent`);
    expect(message).toContain(`  ${paymentId}: 2 PaymentIntents name this payment, at most 1 may`);
    expect(message).toContain(`K5 — no idempotency key left locked or without its stored response:`);
    expect(message).toContain(`  ${key}: is still locked`);
  });
});
