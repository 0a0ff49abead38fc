import {
  RenewalService,
  silentLogger,
  type Payment,
  type Plan,
  type RenewalServiceDeps,
  type Subscription,
} from '../../src/index.js';
import { API_BASE, paymentHarness, type PaymentHarness } from './payment-harness.js';

/**
 * The payment harness plus renewals: subscriptions made the way users make them (a first payment through
 * PaymentService), renewal services over the same world, and what Stripe was asked to charge.
 */
export interface RenewalHarness extends PaymentHarness {
  /** `observeRenewal` calls of every renewal service the harness built, in order. */
  readonly renewalEvents: ('attempted' | 'succeeded' | 'failed')[];
  /** A renewal service over the world (another scheduler, or one after a restart). */
  renewals(overrides?: Partial<RenewalServiceDeps>): RenewalService;
  /** A subscription paid for with `card` (default `pm_card_visa`), `active` unless the card needs 3-D Secure. */
  subscribe(userId: string, options?: { card?: string; plan?: Plan }): Promise<Subscription>;
  /** The subscription's row as it is now. */
  subscription(id: Subscription['id']): Subscription;
  /** The subscription's renewal payments, in the order they were made. */
  renewalsOf(id: Subscription['id']): Payment[];
  /** The saved card's Stripe id, to change how the twin charges it. */
  stripeCardOf(subscription: Subscription): string;
  /** Moves the clock to `at` (never backward). */
  moveTo(at: Date): void;
  /** Confirmations Stripe acted on for `subscription`'s payments (answer lost or not, replays excluded). */
  confirmationsActedOn(id?: Subscription['id']): number;
}

export async function renewalHarness(): Promise<RenewalHarness> {
  const h = await paymentHarness();
  const renewalEvents: ('attempted' | 'succeeded' | 'failed')[] = [];
  let users = 0;
  const subscription = (id: Subscription['id']): Subscription => {
    const row = h.memory.tables.subscriptions.find((s) => s.id === id);
    if (row === undefined) {
      throw new Error(`no subscription ${id}`);
    }
    return row;
  };
  return {
    ...h,
    renewalEvents,
    renewals: (overrides = {}) =>
      new RenewalService({
        store: h.store,
        gateway: h.gateway,
        clock: h.clock,
        logger: silentLogger,
        faults: h.faults,
        threeDSecureReturnUrl: (id) => `${API_BASE}/api/v1/payments/${id}/return`,
        observeGatewayCall: (call, _seconds, outcome) => h.gatewayCalls.push({ call, outcome }),
        observeRenewal: (outcome) => renewalEvents.push(outcome),
        ...overrides,
      }),
    subscribe: async (userId, options = {}) => {
      users += 1;
      const attempt = await h.service().create(
        ...h.request(`key-subscribe-${String(users).padStart(16, '0')}`, {
          userId,
          paymentMethodId: options.card ?? 'pm_card_visa',
          ...(options.plan === undefined ? {} : { planId: options.plan.id }),
        }),
      );
      const id = attempt.result.view.payment.subscriptionId;
      if (id === null) {
        throw new Error('the first payment made no subscription');
      }
      return subscription(id);
    },
    subscription,
    renewalsOf: (id) =>
      h.memory.tables.payments.filter(
        (p) => p.subscriptionId === id && p.billingReason === 'subscription_cycle',
      ),
    stripeCardOf: (s) => {
      const card = h.memory.tables.paymentMethods.find((m) => m.id === s.paymentMethodId);
      if (card === undefined) {
        throw new Error(`subscription ${s.id} has no saved card`);
      }
      return card.stripePaymentMethodId;
    },
    moveTo: (at) => {
      const delta = at.getTime() - h.clock.now().getTime();
      if (delta < 0) {
        throw new Error(`the clock cannot go back to ${at.toISOString()}`);
      }
      h.clock.advance(delta);
    },
    confirmationsActedOn: (id) => {
      const keys = new Set(
        h.memory.tables.payments
          .filter((p) => id === undefined || p.subscriptionId === id)
          .map((p) => `${p.stripeIdempotencyKey}:confirm_intent`),
      );
      return h.gateway.calls.filter(
        (c) =>
          c.method === 'confirmIntent' &&
          c.idempotencyKey !== null &&
          keys.has(c.idempotencyKey) &&
          ((!c.replayed && c.fault === null) || c.fault === 'unavailable_after'),
      ).length;
    },
  };
}
