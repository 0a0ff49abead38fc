import {
  GatewayRateLimitedError,
  GatewayRejectedError,
  GatewayUnavailableError,
  InternalError,
  InvalidStateError,
  UnknownGatewayStateError,
  systemClock,
  type AttachOutcome,
  type AttachPaymentMethodInput,
  type CancelIntentInput,
  type Clock,
  type ConfirmIntentInput,
  type ConfirmOutcome,
  type CreateGatewayCustomerInput,
  type CreateIntentInput,
  type FindIntentInput,
  type GatewayCard,
  type GatewayCustomer,
  type GatewayDecline,
  type GatewayIntent,
  type PaymentGateway,
  type CreateGatewayRefundInput,
  type FindGatewayRefundInput,
  type GatewayCharge,
  type GatewayRefund,
  type GatewayRefundStatus,
  type RefundGateway,
  type RefundId,
  type GatewayIntentPage,
  type ListIntentsInput,
  type ReconcileGateway,
} from '../../src/index.js';

/**
 * An in-memory twin of the PaymentGateway port (STYLE.md R2) that behaves like Stripe where the payment
 * flow depends on it:
 * - idempotency: the same key with the same parameters returns the first answer (`replayed`), other
 *   parameters throw the adapter's InternalError, and keys expire 24 h after first use (on `clock`);
 * - Stripe's test cards by alias (`pm_card_visa`, `pm_card_chargeDeclined`, …, see {@link CARDS});
 * - faults on demand: a call that fails before Stripe acted, after it acted (the answer lost), with a
 *   429, a rejection or an unknown state.
 * Every call is recorded in `calls`, so a test can say "no gateway call" or "exactly one intent".
 */

/** A method of the port. */
export type GatewayMethod = keyof PaymentGateway | keyof RefundGateway | keyof ReconcileGateway;

/** How a call fails. `unavailable_after` acts first and loses the answer (Stripe committed). */
export type GatewayFaultKind =
  'unavailable_before' | 'unavailable_after' | 'rate_limited' | 'rejected' | 'unknown_state';

/** One call the twin received. */
export interface RecordedCall {
  readonly method: GatewayMethod;
  readonly idempotencyKey: string | null;
  /** Answered from the idempotency cache, without acting again. */
  readonly replayed: boolean;
  readonly fault: GatewayFaultKind | null;
}

interface CardBehaviour {
  readonly brand: string;
  readonly last4: string;
  /** Refused when attached (Stripe's $0 check), as most declining test cards are. */
  readonly attachDecline?: GatewayDecline;
  /** Refused when charged. */
  readonly chargeDecline?: GatewayDecline;
  /** Confirmation asks for 3-D Secure first. */
  readonly threeDSecure?: boolean;
  /** Confirmation leaves the payment `processing` until {@link MemoryGateway.settle}. */
  readonly processing?: boolean;
}

const GENERIC_DECLINE: GatewayDecline = {
  code: 'card_declined',
  declineCode: 'generic_decline',
  message: 'Your card was declined.',
};
const INSUFFICIENT_FUNDS: GatewayDecline = {
  code: 'card_declined',
  declineCode: 'insufficient_funds',
  message: 'Your card has insufficient funds.',
};
/** Stripe's answer when a card that needs 3-D Secure is charged off-session (a renewal). */
const AUTHENTICATION_REQUIRED: GatewayDecline = {
  code: 'authentication_required',
  declineCode: 'authentication_required',
  message: 'Your card was declined. This transaction requires authentication.',
};
const THREE_D_SECURE_FAILED: GatewayDecline = {
  code: 'payment_intent_authentication_failure',
  declineCode: null,
  message: 'The provided PaymentMethod has failed authentication.',
};

/** Stripe's test aliases the twin knows, plus `pm_card_twinProcessing` of its own. */
export const CARDS: Readonly<Record<string, CardBehaviour>> = {
  pm_card_visa: { brand: 'visa', last4: '4242' },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444' },
  pm_card_chargeDeclined: { brand: 'visa', last4: '0002', attachDecline: GENERIC_DECLINE },
  pm_card_visa_chargeDeclinedInsufficientFunds: {
    brand: 'visa',
    last4: '9995',
    attachDecline: INSUFFICIENT_FUNDS,
  },
  pm_card_chargeCustomerFail: { brand: 'visa', last4: '0341', chargeDecline: GENERIC_DECLINE },
  pm_card_threeDSecure2Required: { brand: 'visa', last4: '3220', threeDSecure: true },
  pm_card_threeDSecureRequiredChargeDeclined: {
    brand: 'visa',
    last4: '1629',
    threeDSecure: true,
    chargeDecline: GENERIC_DECLINE,
  },
  pm_card_twinProcessing: { brand: 'visa', last4: '1111', processing: true },
};

const DAY_MS = 24 * 60 * 60 * 1000;

interface StoredAnswer {
  readonly fingerprint: string;
  readonly at: number;
  readonly answer: { ok: true; value: unknown } | { ok: false; error: Error };
}

interface IntentRecord {
  intent: GatewayIntent;
  readonly card: CardBehaviour;
  /** Where 3-D Secure sends the card holder back to (the confirm's `returnUrl`). */
  returnUrl: string | null;
}

/** The in-memory gateway. `clock` drives key expiry and intents' `created`. */
export class MemoryGateway implements PaymentGateway, RefundGateway, ReconcileGateway {
  readonly calls: RecordedCall[] = [];
  private readonly faults: { method: GatewayMethod; kind: GatewayFaultKind; times: number }[] = [];
  private readonly answers = new Map<string, StoredAnswer>();
  private readonly customers = new Map<string, { accountId: string; customerId: string }>();
  private readonly methods = new Map<string, { card: CardBehaviour; customer: string }>();
  private readonly intents = new Map<string, IntentRecord>();
  private sequence = 0;

  constructor(private readonly clock: Clock = systemClock) {}

  /** Makes the next `times` calls of `method` fail as `kind`. */
  fail(method: GatewayMethod, kind: GatewayFaultKind, times = 1): void {
    this.faults.push({ method, kind, times });
  }

  /** How many calls of `method` reached the twin (replays included), or of all methods. */
  count(method?: GatewayMethod): number {
    return this.calls.filter((c) => method === undefined || c.method === method).length;
  }

  /** Every intent the twin holds, oldest first. */
  allIntents(): GatewayIntent[] {
    return [...this.intents.values()].map((r) => r.intent);
  }

  /** The return URL the intent was confirmed with. */
  intentReturnUrl(stripePaymentIntentId: string): string | null {
    return this.record(stripePaymentIntentId).returnUrl;
  }

  /** How many Stripe customers the twin created. */
  customerCount(): number {
    return this.customers.size;
  }

  /** The card holder finishes (or fails) 3-D Secure for a `requires_action` intent. */
  completeThreeDSecure(stripePaymentIntentId: string, passed: boolean): GatewayIntent {
    const record = this.record(stripePaymentIntentId);
    if (record.intent.status !== 'requires_action') {
      throw new Error(`intent ${stripePaymentIntentId} is ${record.intent.status}, not requires_action`);
    }
    if (!passed) {
      return this.update(record, { status: 'failed', failure: THREE_D_SECURE_FAILED, redirectUrl: null });
    }
    return this.charge(record);
  }

  /**
   * From now on the attached card `stripePaymentMethodId` is charged as the test alias `alias` is (a saved
   * card that starts declining, or needs authentication, or recovers): what a renewal meets months later.
   */
  changeCard(stripePaymentMethodId: string, alias: string): void {
    const method = this.methods.get(stripePaymentMethodId);
    const card = CARDS[alias];
    if (method === undefined || card === undefined) {
      throw new Error(`the twin holds no attached card ${stripePaymentMethodId}, or knows no alias ${alias}`);
    }
    this.methods.set(stripePaymentMethodId, { ...method, card });
  }

  /** Settles a `processing` intent, as the bank eventually does. */
  settle(stripePaymentIntentId: string, outcome: 'succeeded' | 'failed'): GatewayIntent {
    const record = this.record(stripePaymentIntentId);
    return outcome === 'succeeded'
      ? this.update(record, { status: 'succeeded', amountReceived: record.intent.amount })
      : this.update(record, { status: 'failed', failure: GENERIC_DECLINE });
  }

  createCustomer(input: CreateGatewayCustomerInput): Promise<GatewayCustomer> {
    return this.call('createCustomer', input.idempotencyKey, input, () => {
      const stripeCustomerId = this.nextId('cus');
      this.customers.set(stripeCustomerId, { accountId: input.accountId, customerId: input.customerId });
      return { stripeCustomerId };
    });
  }

  attachPaymentMethod(input: AttachPaymentMethodInput): Promise<AttachOutcome> {
    return this.call('attachPaymentMethod', input.idempotencyKey, input, (): AttachOutcome => {
      if (!this.customers.has(input.stripeCustomerId)) {
        throw rejected(`No such customer: '${input.stripeCustomerId}'`, 'customer');
      }
      const existing = this.methods.get(input.paymentMethod);
      const card = existing?.card ?? CARDS[input.paymentMethod];
      if (card === undefined) {
        throw rejected(`No such PaymentMethod: '${input.paymentMethod}'`, 'payment_method');
      }
      if (card.attachDecline !== undefined) {
        return { kind: 'declined', decline: card.attachDecline };
      }
      // A test alias materialises a new PaymentMethod on every attach, as Stripe does.
      const id = existing === undefined ? this.nextId('pm') : input.paymentMethod;
      this.methods.set(id, { card, customer: input.stripeCustomerId });
      const attached: GatewayCard = {
        stripePaymentMethodId: id,
        brand: card.brand,
        last4: card.last4,
        expMonth: 12,
        expYear: 2034,
      };
      return { kind: 'attached', card: attached };
    });
  }

  createIntent(input: CreateIntentInput): Promise<GatewayIntent> {
    return this.call('createIntent', input.idempotencyKey, input, () => {
      const method = this.methods.get(input.stripePaymentMethodId);
      if (method === undefined || method.customer !== input.stripeCustomerId) {
        throw rejected(`No such PaymentMethod: '${input.stripePaymentMethodId}'`, 'payment_method');
      }
      const intent: GatewayIntent = {
        stripePaymentIntentId: this.nextId('pi'),
        status: 'pending',
        amount: input.amount,
        amountReceived: 0,
        currency: input.currency,
        stripeCustomerId: input.stripeCustomerId,
        stripePaymentMethodId: input.stripePaymentMethodId,
        paymentId: input.paymentId,
        accountId: input.accountId,
        redirectUrl: null,
        failure: null,
        created: this.clock.now(),
      };
      this.intents.set(intent.stripePaymentIntentId, { intent, card: method.card, returnUrl: null });
      return intent;
    });
  }

  confirmIntent(input: ConfirmIntentInput): Promise<ConfirmOutcome> {
    return this.call('confirmIntent', input.idempotencyKey, input, (): ConfirmOutcome => {
      const record = this.record(input.stripePaymentIntentId);
      if (record.intent.status !== 'pending') {
        throw new InvalidStateError(
          `You cannot confirm this PaymentIntent because it has a status of ${record.intent.status}.`,
        );
      }
      record.returnUrl = input.returnUrl ?? null;
      const card = record.card;
      if (card.threeDSecure === true) {
        if (input.offSession === true) {
          // Nobody is there to authenticate: Stripe declines, and the intent waits for another card.
          const intent = this.update(record, { status: 'failed', failure: AUTHENTICATION_REQUIRED });
          return { kind: 'declined', intent, decline: AUTHENTICATION_REQUIRED };
        }
        const redirectUrl =
          input.returnUrl === undefined
            ? null
            : `https://hooks.stripe.test/3ds/${record.intent.stripePaymentIntentId}`;
        const intent = this.update(record, { status: 'requires_action', redirectUrl });
        return { kind: 'requires_action', intent, redirectUrl };
      }
      if (card.processing === true) {
        return { kind: 'processing', intent: this.update(record, { status: 'processing' }) };
      }
      const intent = this.charge(record);
      return intent.status === 'succeeded'
        ? { kind: 'succeeded', intent }
        : { kind: 'declined', intent, decline: intent.failure ?? GENERIC_DECLINE };
    });
  }

  retrieveIntent(stripePaymentIntentId: string): Promise<GatewayIntent> {
    return this.call(
      'retrieveIntent',
      null,
      stripePaymentIntentId,
      () => this.record(stripePaymentIntentId).intent,
    );
  }

  findIntentByPaymentId(input: FindIntentInput): Promise<GatewayIntent | null> {
    return this.call('findIntentByPaymentId', null, input, () => {
      const matches = this.allIntents().filter(
        (i) =>
          i.paymentId === input.paymentId &&
          i.stripeCustomerId === input.stripeCustomerId &&
          (input.createdAfter === undefined || i.created.getTime() >= input.createdAfter.getTime()),
      );
      if (matches.length > 1) {
        throw new InternalError(
          `Stripe holds ${matches.length} PaymentIntents for payment ${input.paymentId}.`,
        );
      }
      return matches[0] ?? null;
    });
  }

  cancelIntent(input: CancelIntentInput): Promise<GatewayIntent> {
    return this.call('cancelIntent', input.idempotencyKey, input, () => {
      const record = this.record(input.stripePaymentIntentId);
      if (record.intent.status === 'succeeded' || record.intent.status === 'processing') {
        throw new InvalidStateError(
          `You cannot cancel this PaymentIntent because it has a status of ${record.intent.status}.`,
        );
      }
      if (record.intent.status === 'canceled') {
        return record.intent;
      }
      return this.update(record, { status: 'canceled', redirectUrl: null });
    });
  }

  /*
   * Refunds (RefundGateway), held as Stripe holds them: each intent's charge with its running
   * `amountRefunded` (pending refunds count, failed and canceled ones give their amount back), and
   * the refunds themselves. `createRefund` honours idempotency keys like every call and refuses more
   * than the charge has left, with Stripe's own errors.
   */
  protected readonly charges = new Map<string, GatewayCharge>();
  protected readonly refunds = new Map<string, GatewayRefund>();
  /** The status Stripe gives new refunds (card refunds mostly succeed at once; some stay pending). */
  refundStatusOnCreate: 'succeeded' | 'pending' = 'succeeded';

  createRefund(input: CreateGatewayRefundInput): Promise<GatewayRefund> {
    return this.call('createRefund', input.idempotencyKey, input, () => {
      const record = this.record(input.stripePaymentIntentId);
      if (record.intent.status !== 'succeeded') {
        throw new GatewayRejectedError(
          `This PaymentIntent (${input.stripePaymentIntentId}) does not have a successful charge to refund.`,
          { gatewayCode: 'charge_not_refundable' },
        );
      }
      const charge = this.chargeOf(input.stripePaymentIntentId);
      const remaining = charge.amountCaptured - charge.amountRefunded;
      if (remaining <= 0) {
        throw new GatewayRejectedError(`Charge ${charge.stripeChargeId} has already been refunded.`, {
          gatewayCode: 'charge_already_refunded',
        });
      }
      if (input.amount > remaining) {
        throw new GatewayRejectedError(
          `Refund amount (${input.amount}) is greater than unrefunded amount on charge (${remaining})`,
          { param: 'amount', gatewayCode: null },
        );
      }
      return this.refund(input.stripePaymentIntentId, input.amount, {
        refundId: input.refundId,
        reason: input.reason,
        status: this.refundStatusOnCreate,
      });
    });
  }

  retrieveRefund(stripeRefundId: string): Promise<GatewayRefund> {
    return this.call('retrieveRefund', null, stripeRefundId, () => this.refundOf(stripeRefundId));
  }

  findRefundByRefundId(input: FindGatewayRefundInput): Promise<GatewayRefund | null> {
    return this.call(
      'findRefundByRefundId',
      null,
      input,
      () =>
        this.allRefunds().find(
          (r) => r.refundId === input.refundId && r.stripePaymentIntentId === input.stripePaymentIntentId,
        ) ?? null,
    );
  }

  /** Every refund the twin holds, oldest first. */
  allRefunds(): GatewayRefund[] {
    return [...this.refunds.values()];
  }

  /** The charge of an intent: made on first use, captured in full (Stripe charges on confirmation). */
  chargeOf(stripePaymentIntentId: string): GatewayCharge {
    const id = `ch_${stripePaymentIntentId}`;
    const existing = this.charges.get(id);
    if (existing !== undefined) {
      return existing;
    }
    const intent = this.record(stripePaymentIntentId).intent;
    const charge: GatewayCharge = {
      stripeChargeId: id,
      stripePaymentIntentId,
      amount: intent.amount,
      amountCaptured: intent.amount,
      amountRefunded: 0,
      currency: intent.currency,
      status: 'succeeded',
      created: this.clock.now(),
    };
    this.charges.set(id, charge);
    return charge;
  }

  /** Refunds part of an intent's charge, as Stripe's dashboard (or pay, with `refundId`) would. */
  refund(
    stripePaymentIntentId: string,
    amount: number,
    options: {
      readonly refundId?: RefundId;
      readonly status?: 'succeeded' | 'pending';
      readonly reason?: string | null;
    } = {},
  ): GatewayRefund {
    const charge = this.chargeOf(stripePaymentIntentId);
    if (charge.amountRefunded + amount > charge.amountCaptured) {
      throw new Error(`refund of ${amount} exceeds what remains on ${charge.stripeChargeId}`);
    }
    this.charges.set(charge.stripeChargeId, { ...charge, amountRefunded: charge.amountRefunded + amount });
    const refund: GatewayRefund = {
      stripeRefundId: this.nextId('re'),
      stripePaymentIntentId,
      stripeChargeId: charge.stripeChargeId,
      amount,
      currency: charge.currency,
      status: options.status ?? 'succeeded',
      reason: options.reason ?? null,
      failureReason: null,
      refundId: options.refundId ?? null,
      created: this.clock.now(),
    };
    this.refunds.set(refund.stripeRefundId, refund);
    return refund;
  }

  /** Moves a refund on; a failed or canceled one gives its amount back to the charge, as Stripe does. */
  setRefundStatus(stripeRefundId: string, status: GatewayRefundStatus): GatewayRefund {
    const refund = this.refundOf(stripeRefundId);
    const next: GatewayRefund = {
      ...refund,
      status,
      failureReason: status === 'failed' ? 'expired_or_canceled_card' : null,
    };
    this.refunds.set(stripeRefundId, next);
    const gaveBack = refund.status !== 'failed' && refund.status !== 'canceled';
    if (gaveBack && (status === 'failed' || status === 'canceled') && refund.stripeChargeId !== null) {
      const charge = this.charges.get(refund.stripeChargeId);
      if (charge !== undefined) {
        this.charges.set(charge.stripeChargeId, {
          ...charge,
          amountRefunded: charge.amountRefunded - refund.amount,
        });
      }
    }
    return next;
  }

  /*
   * Reconciliation's lists (ReconcileGateway): intents newest first in pages of `listPageSize`, as
   * Stripe lists them, only those whose metadata names a pay payment; an intent's refunds.
   */
  listPageSize = 100;

  listIntents(input: ListIntentsInput): Promise<GatewayIntentPage> {
    return this.call('listIntents', null, input, () => {
      const inWindow = this.allIntents()
        .filter(
          (i) =>
            i.created.getTime() >= input.createdAfter.getTime() &&
            (input.createdBefore === undefined || i.created.getTime() < input.createdBefore.getTime()),
        )
        .reverse();
      const start =
        input.startingAfter === undefined
          ? 0
          : inWindow.findIndex((i) => i.stripePaymentIntentId === input.startingAfter) + 1;
      const page = inWindow.slice(start, start + this.listPageSize);
      const last = page.at(-1);
      return {
        data: page.filter((i) => i.paymentId !== null),
        nextStartingAfter:
          last !== undefined && start + page.length < inWindow.length ? last.stripePaymentIntentId : null,
      };
    });
  }

  listRefundsOfIntent(stripePaymentIntentId: string): Promise<readonly GatewayRefund[]> {
    return this.call('listRefundsOfIntent', null, stripePaymentIntentId, () =>
      this.allRefunds()
        .filter((r) => r.stripePaymentIntentId === stripePaymentIntentId)
        .reverse(),
    );
  }

  /** An intent made at Stripe outside pay (its dashboard, another program), with pay's metadata if given. */
  createForeignIntent(input: {
    readonly amount: number;
    readonly paymentId: GatewayIntent['paymentId'];
    readonly accountId: GatewayIntent['accountId'];
    readonly status?: 'pending' | 'succeeded';
  }): GatewayIntent {
    const intent: GatewayIntent = {
      stripePaymentIntentId: this.nextId('pi'),
      status: input.status ?? 'pending',
      amount: input.amount,
      amountReceived: input.status === 'succeeded' ? input.amount : 0,
      currency: 'usd',
      stripeCustomerId: null,
      stripePaymentMethodId: null,
      paymentId: input.paymentId,
      accountId: input.accountId,
      redirectUrl: null,
      failure: null,
      created: this.clock.now(),
    };
    this.intents.set(intent.stripePaymentIntentId, {
      intent,
      card: CARDS.pm_card_visa ?? { brand: 'visa', last4: '4242' },
      returnUrl: null,
    });
    return intent;
  }

  /** Sets an intent's status as Stripe's dashboard or a lost webhook would leave it (test-only). */
  setIntentStatus(stripePaymentIntentId: string, status: GatewayIntent['status']): GatewayIntent {
    const record = this.record(stripePaymentIntentId);
    return this.update(record, {
      status,
      ...(status === 'succeeded' ? { amountReceived: record.intent.amount } : {}),
    });
  }

  protected refundOf(stripeRefundId: string): GatewayRefund {
    const refund = this.refunds.get(stripeRefundId);
    if (refund === undefined) {
      throw rejected(`No such refund: '${stripeRefundId}'`, 'id');
    }
    return refund;
  }

  private charge(record: IntentRecord): GatewayIntent {
    const decline = record.card.chargeDecline;
    if (decline !== undefined) {
      return this.update(record, { status: 'failed', failure: decline, redirectUrl: null });
    }
    return this.update(record, {
      status: 'succeeded',
      amountReceived: record.intent.amount,
      redirectUrl: null,
    });
  }

  private update(record: IntentRecord, patch: Partial<GatewayIntent>): GatewayIntent {
    record.intent = { ...record.intent, ...patch };
    return record.intent;
  }

  private record(stripePaymentIntentId: string): IntentRecord {
    const record = this.intents.get(stripePaymentIntentId);
    if (record === undefined) {
      throw rejected(`No such payment_intent: '${stripePaymentIntentId}'`, 'intent');
    }
    return record;
  }

  private nextId(prefix: string): string {
    this.sequence += 1;
    return `${prefix}_twin${String(this.sequence).padStart(6, '0')}`;
  }

  private takeFault(method: GatewayMethod): GatewayFaultKind | null {
    const fault = this.faults.find((f) => f.method === method && f.times > 0);
    if (fault === undefined) {
      return null;
    }
    fault.times -= 1;
    return fault.kind;
  }

  /** Runs one call with Stripe's idempotency and the armed faults, recording it. */
  private call<T>(method: GatewayMethod, key: string | null, params: unknown, act: () => T): Promise<T> {
    const fault = this.takeFault(method);
    const now = this.clock.now().getTime();
    const fingerprint = `${method} ${JSON.stringify(params)}`;
    const stored = key === null ? undefined : this.answers.get(key);
    const live = stored !== undefined && now - stored.at < DAY_MS ? stored : undefined;
    this.calls.push({ method, idempotencyKey: key, replayed: live !== undefined && fault === null, fault });
    if (fault === 'unavailable_before') {
      return Promise.reject(new GatewayUnavailableError(`Stripe did not answer ${method} (twin).`));
    }
    if (fault === 'rate_limited') {
      return Promise.reject(
        new GatewayRateLimitedError(`Stripe rate-limited ${method} (twin).`, {
          context: { retryAfterSeconds: 1 },
        }),
      );
    }
    if (fault === 'rejected') {
      return Promise.reject(rejected(`Stripe refused ${method} (twin).`, 'payment_method'));
    }
    if (fault === 'unknown_state') {
      return Promise.reject(new UnknownGatewayStateError(`Stripe sent something odd on ${method} (twin).`));
    }
    if (live !== undefined) {
      if (live.fingerprint !== fingerprint) {
        return Promise.reject(
          new InternalError(
            `pay sent one of its Stripe idempotency keys with other parameters on ${method}.`,
          ),
        );
      }
      if (fault === null) {
        return live.answer.ok ? Promise.resolve(live.answer.value as T) : Promise.reject(live.answer.error);
      }
    }
    let answer: StoredAnswer['answer'];
    try {
      answer = { ok: true, value: live?.answer.ok === true ? live.answer.value : act() };
    } catch (error) {
      // Stripe keeps the answer to a request it began executing (errors included) under its key.
      answer = { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
    if (key !== null && live === undefined && !isRejection(answer)) {
      this.answers.set(key, { fingerprint, at: now, answer });
    }
    if (fault === 'unavailable_after') {
      return Promise.reject(
        new GatewayUnavailableError(`Stripe acted on ${method}, then the answer was lost (twin).`),
      );
    }
    return answer.ok ? Promise.resolve(answer.value as T) : Promise.reject(answer.error);
  }
}

function rejected(message: string, param: string): GatewayRejectedError {
  return new GatewayRejectedError(message, { param, gatewayCode: 'resource_missing' });
}

/** Validation-style refusals are not stored under the key, as Stripe stores none for a 400. */
function isRejection(answer: StoredAnswer['answer']): boolean {
  return !answer.ok && answer.error instanceof GatewayRejectedError;
}
