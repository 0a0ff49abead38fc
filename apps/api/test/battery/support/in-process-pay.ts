import {
  isId,
  PaymentService,
  RenewalService,
  SubscriptionService,
  type AccountId,
  type Clock,
  type PaymentId,
  type SubscriptionId,
} from '@pay/core';
import { createPay, loadConfig, type Pay } from '@pay/runtime';
import { newIdempotencyKey, type Battery } from './battery.js';

/*
 * pay's services in the test process, on a clock the test moves: the database and the gateway are the
 * ones `createPay` wires for a process (its own pool, as `pay_service`; the real `stripe` SDK through
 * @pay/stripe-adapter, pointed at the battery's sandbox), and only the clock is the test's. Each
 * instance is one more "process": two of them are two schedulers on two separate connection pools.
 */

/** A clock the test moves, forward only. */
export class TestClock implements Clock {
  private at: number;

  constructor(start: Date) {
    this.at = start.getTime();
  }

  now(): Date {
    return new Date(this.at);
  }

  /** Moves to `to`; throws if that is in the past (time does not go back for pay). */
  set(to: Date): void {
    if (to.getTime() < this.at) {
      throw new Error(`the clock cannot go back from ${this.now().toISOString()} to ${to.toISOString()}`);
    }
    this.at = to.getTime();
  }

  advance(ms: number): void {
    this.set(new Date(this.at + ms));
  }
}

/** One in-process pay: its wiring and the services the test drives, on `clock`. */
export interface InProcessPay {
  readonly pay: Pay;
  readonly payments: PaymentService;
  readonly renewals: RenewalService;
  readonly subscriptions: SubscriptionService;
  close(): Promise<void>;
}

/** The battery's account id, typed as pay's. */
export function accountIdOf(battery: Battery): AccountId {
  if (!isId('account', battery.accountId)) {
    throw new Error(`not an account id: ${battery.accountId}`);
  }
  return battery.accountId;
}

/** Opens one in-process pay over the battery's database and sandbox; `env` adds to the battery's. */
export async function openInProcessPay(
  battery: Battery,
  clock: Clock,
  env: Record<string, string> = {},
): Promise<InProcessPay> {
  const pay = await createPay(loadConfig(battery.env(env)), { role: 'cli' });
  const { config, store, gateway, logger } = pay;
  const base = {
    store,
    gateway,
    clock,
    logger,
    threeDSecureReturnUrl: (id: PaymentId) => `${config.apiBaseUrl}/api/v1/payments/${id}/return`,
  };
  const renewals = new RenewalService({ ...base, dunningSchedule: config.dunningSchedule });
  return {
    pay,
    payments: new PaymentService({ ...base, returnUrlOrigins: config.returnUrlOrigins }),
    renewals,
    subscriptions: new SubscriptionService({ store, gateway, clock, logger, renewals }),
    close: () => pay.close(),
  };
}

/**
 * A subscription made the way users make one: a first payment of the battery's plan through
 * PaymentService (at the clock's time), for a new end user paying with `card`. Throws unless it
 * succeeded and made a subscription.
 */
export async function subscribe(
  battery: Battery,
  inProcess: InProcessPay,
  userId: string,
  card = 'pm_card_visa',
): Promise<SubscriptionId> {
  const accountId = accountIdOf(battery);
  const key = newIdempotencyKey(`subscribe-${userId}`);
  const params = { user_id: userId, plan_id: battery.planId, payment_method_id: card };
  const attempt = await inProcess.payments.create(
    { accountId, userId, planId: battery.planId, paymentMethodId: card },
    { accountId, key, method: 'POST', path: '/api/v1/payments', params, requestId: `req_${key}` },
  );
  const { kind, view } = attempt.result;
  if (kind !== 'succeeded' || view.payment.subscriptionId === null) {
    throw new Error(
      `the first payment of ${userId} ended ${kind}, subscription ${view.payment.subscriptionId}`,
    );
  }
  return view.payment.subscriptionId;
}
