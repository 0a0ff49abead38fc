import {
  RefundService,
  silentLogger,
  type Actor,
  type ApproveRefundInput,
  type CreateRefundInput,
  type IdempotentRequest,
  type Payment,
  type RefundGateway,
  type RefundServiceDeps,
  type Store,
} from '../../src/index.js';
import { RETURN_ORIGIN } from './payment-harness.js';
import { webhookHarness, type WebhookHarness } from './webhook-harness.js';

/**
 * The webhook harness (payments taken through pay's flow, Stripe's charges and refunds in the twin,
 * the webhook worker) plus refunds: refund services over the same world, two admins, and request
 * builders. The refund service's gateway is the twin seen through a guard that records any call made
 * while a transaction is open (STYLE.md R7) and can hold a call mid-flight (a request "still running").
 */
export interface RefundHarness extends WebhookHarness {
  readonly admin: Actor;
  readonly secondAdmin: Actor;
  /** Refund gateway calls made while a transaction was open: must stay empty. */
  readonly refundCallsInTransaction: string[];
  readonly refundGatewayCalls: { call: string; outcome: 'ok' | 'error' }[];
  /** A refund service over the world (`approvalThreshold` null, policy `cancel_now` unless overridden). */
  refunds(overrides?: Partial<RefundServiceDeps>): RefundService;
  /** `create`'s arguments: a refund request by `actor` (default: the first admin) with `key`. */
  request(
    key: string,
    input: Omit<CreateRefundInput, 'accountId'>,
    options?: { readonly actor?: Actor; readonly request?: Partial<IdempotentRequest> },
  ): [CreateRefundInput, Actor, IdempotentRequest];
  /** `approve`'s arguments: `actor` approves `refundId` with `key`. */
  approval(key: string, refundId: string, actor: Actor): [ApproveRefundInput, Actor, IdempotentRequest];
  /** A succeeded payment of `amount` (a plan of that amount), taken through the payment flow. */
  payOf(amount: number): Promise<{ payment: Payment; intentId: string }>;
  /** Holds the next createRefund until the returned function is called (it then runs as usual). */
  holdNextCreate(): () => void;
  /** Row counts of what a refund command writes. */
  counts(): { refunds: number; refundEvents: number; audit: number; keys: number; paymentEvents: number };
}

export async function refundHarness(): Promise<RefundHarness> {
  const h = await webhookHarness();
  // Transactions are serialised (one at a time), so a counter tells whether one is open.
  let open = 0;
  const store: Store = {
    repos: h.store.repos,
    transaction: (fn) =>
      h.store.transaction(async (tx) => {
        open += 1;
        try {
          return await fn(tx);
        } finally {
          open -= 1;
        }
      }),
  };
  const refundCallsInTransaction: string[] = [];
  let held: Promise<void> | null = null;
  const guard = async (method: string): Promise<void> => {
    if (open > 0) {
      refundCallsInTransaction.push(method);
    }
    const wait = held;
    held = null;
    await wait;
  };
  const gateway: RefundGateway = {
    createRefund: async (input) => {
      await guard('createRefund');
      return h.stripe.createRefund(input);
    },
    retrieveRefund: async (id) => {
      await guard('retrieveRefund');
      return h.stripe.retrieveRefund(id);
    },
    findRefundByRefundId: async (input) => {
      await guard('findRefundByRefundId');
      return h.stripe.findRefundByRefundId(input);
    },
  };
  const refundGatewayCalls: { call: string; outcome: 'ok' | 'error' }[] = [];
  let requests = 0;
  let users = 0;
  const admin: Actor = { type: 'api_key', id: 'key_admin_one' };
  const nextRequestId = () => {
    requests += 1;
    return `req_refund_${requests}`;
  };
  return {
    ...h,
    admin,
    secondAdmin: { type: 'api_key', id: 'key_admin_two' },
    refundCallsInTransaction,
    refundGatewayCalls,
    refunds: (overrides = {}) =>
      new RefundService({
        store,
        gateway,
        clock: h.clock,
        logger: silentLogger,
        faults: h.faults,
        approvalThreshold: null,
        subscriptionPolicy: 'cancel_now',
        observeGatewayCall: (call, _seconds, outcome) => refundGatewayCalls.push({ call, outcome }),
        ...overrides,
      }),
    request: (key, input, options = {}) => {
      const full: CreateRefundInput = { accountId: h.account.id, ...input };
      return [
        full,
        options.actor ?? admin,
        {
          accountId: h.account.id,
          key,
          method: 'POST',
          path: '/api/v1/refunds',
          params: { payment_id: input.paymentId, amount: input.amount, reason: input.reason },
          requestId: nextRequestId(),
          ...options.request,
        },
      ];
    },
    approval: (key, refundId, actor) => [
      { accountId: h.account.id, refundId },
      actor,
      {
        accountId: h.account.id,
        key,
        method: 'POST',
        path: `/api/v1/refunds/${refundId}/approve`,
        params: {},
        requestId: nextRequestId(),
      },
    ],
    async payOf(amount) {
      users += 1;
      const plan = await h.memory.store.repos.plans.create({
        accountId: h.account.id,
        name: `Plan ${amount}`,
        amount,
        currency: 'usd',
        interval: 'month',
      });
      const attempt = await h.payments.create(
        {
          accountId: h.account.id,
          userId: `refund-user-${users}`,
          planId: plan.id,
          paymentMethodId: 'pm_card_visa',
          returnUrl: `${RETURN_ORIGIN}/thanks`,
        },
        {
          accountId: h.account.id,
          key: `pay-key-${users}-${'y'.repeat(24)}`,
          method: 'POST',
          path: '/api/v1/payments',
          params: { plan: plan.id, users },
          requestId: `req_pay_${users}`,
        },
      );
      const payment = h.payment(attempt.result.view.payment.id);
      if (payment.status !== 'succeeded' || payment.stripePaymentIntentId === null) {
        throw new Error(`setup: the payment is ${payment.status}`);
      }
      return { payment, intentId: payment.stripePaymentIntentId };
    },
    holdNextCreate() {
      let release = () => undefined as void;
      held = new Promise<void>((resolve) => {
        release = resolve;
      });
      return () => release();
    },
    counts() {
      const t = h.memory.tables;
      return {
        refunds: t.refunds.length,
        refundEvents: t.refundEvents.length,
        audit: t.audit.length,
        keys: t.idempotencyKeys.length,
        paymentEvents: t.paymentEvents.length,
      };
    },
  };
}
