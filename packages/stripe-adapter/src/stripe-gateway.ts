import {
  ConfigurationError,
  GatewayRejectedError,
  InternalError,
  type AttachOutcome,
  type AttachPaymentMethodInput,
  type CancelIntentInput,
  type ConfirmIntentInput,
  type ConfirmOutcome,
  type CreateGatewayCustomerInput,
  type CreateGatewayRefundInput,
  type CreateIntentInput,
  type FindGatewayRefundInput,
  type FindIntentInput,
  type GatewayCharge,
  type GatewayCustomer,
  type GatewayDispute,
  type GatewayEvent,
  type GatewayEvents,
  type GatewayIntent,
  type GatewayRefund,
  type GatewayIntentPage,
  type ListIntentsInput,
  type ReconcileGateway,
  type ListedGatewayEvent,
  type ListEventsQuery,
  type Page,
  type PaymentGateway,
  type RefundGateway,
} from '@pay/core';
import Stripe from 'stripe';
import { toGatewayCharge } from './charge-mapping.js';
import { toGatewayDispute } from './dispute-mapping.js';
import { callStripe, toPayError } from './error-mapping.js';
import { decodeStripeEvent } from './event-mapping.js';
import {
  confirmOutcomeOf,
  declineFrom,
  METADATA_ACCOUNT_ID,
  METADATA_CUSTOMER_ID,
  METADATA_PAYMENT_ID,
  toGatewayIntent,
} from './intent-mapping.js';
import {
  createOutboundRateLimiter,
  type OutboundRateLimiter,
  type OutboundRateLimitOptions,
} from './outbound-rate-limit.js';
import { METADATA_REFUND_ID, toGatewayRefund } from './refund-mapping.js';

/** Where Stripe is and how patiently to talk to it. */
export interface StripeGatewayOptions {
  /** `sk_live_…`, `sk_test_…` or a restricted key; the sandbox takes any `sk_test_…`. */
  readonly secretKey: string;
  /** `api.stripe.com` unless pointed at a Stripe-compatible server such as the sandbox. */
  readonly host?: string;
  readonly port?: number;
  readonly protocol?: 'http' | 'https';
  /**
   * How long one HTTP attempt may take, in ms. Past it the call ends without an answer (ambiguous): keep
   * it well below the API's own request deadline so pay can still answer its client with a 503.
   */
  readonly timeoutMs: number;
  /**
   * How many times the SDK re-sends a call that got no answer, a 409 or a 5xx, with the same
   * idempotency key (0 to leave retries to pay's recovery). The SDK also re-sends once on a connection
   * closed under it, whatever this says.
   */
  readonly maxNetworkRetries: number;
  /** The `Stripe-Version` to send; the SDK's pinned version (the one its types describe) by default. */
  readonly apiVersion?: Stripe.StripeConfig['apiVersion'];
  /**
   * pay's client-side limit on requests to Stripe (token buckets, one for all requests and one per
   * endpoint); none when undefined. The SDK's own re-sends (`maxNetworkRetries`) are not counted: they
   * follow a failure, after a back-off of half a second or more.
   */
  readonly rateLimit?: OutboundRateLimitOptions;
}

/**
 * The SDK calls this adapter makes and the endpoint (method and route) each one requests, the way
 * Stripe and the sandbox key their per-endpoint limits.
 */
const STRIPE_ENDPOINTS = {
  'customers.create': 'POST /v1/customers',
  'paymentMethods.attach': 'POST /v1/payment_methods/:payment_method/attach',
  'paymentIntents.create': 'POST /v1/payment_intents',
  'paymentIntents.confirm': 'POST /v1/payment_intents/:intent/confirm',
  'paymentIntents.retrieve': 'GET /v1/payment_intents/:intent',
  'paymentIntents.list': 'GET /v1/payment_intents',
  'paymentIntents.cancel': 'POST /v1/payment_intents/:intent/cancel',
  'charges.retrieve': 'GET /v1/charges/:charge',
  'refunds.retrieve': 'GET /v1/refunds/:refund',
  'refunds.create': 'POST /v1/refunds',
  'refunds.list': 'GET /v1/refunds',
  'disputes.retrieve': 'GET /v1/disputes/:dispute',
  'events.list': 'GET /v1/events',
} as const;

type StripeCall = keyof typeof STRIPE_ENDPOINTS;

/** A ceiling on retries: each one waits up to 5 s in the SDK, and a client is waiting. */
const MAX_NETWORK_RETRIES = 5;

function checkOptions(options: StripeGatewayOptions): void {
  if (options.secretKey.trim() === '') {
    throw new ConfigurationError('The Stripe secret key is empty.', { param: 'secretKey' });
  }
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new ConfigurationError(`timeoutMs must be a positive integer of ms, got ${options.timeoutMs}.`, {
      param: 'timeoutMs',
    });
  }
  if (
    !Number.isInteger(options.maxNetworkRetries) ||
    options.maxNetworkRetries < 0 ||
    options.maxNetworkRetries > MAX_NETWORK_RETRIES
  ) {
    throw new ConfigurationError(
      `maxNetworkRetries must be an integer from 0 to ${MAX_NETWORK_RETRIES}, got ${options.maxNetworkRetries}.`,
      { param: 'maxNetworkRetries' },
    );
  }
}

/**
 * pay's {@link PaymentGateway}, {@link GatewayEvents} and {@link RefundGateway} on the Stripe SDK, used
 * directly. Every POST carries the caller's idempotency key, intents and refunds carry pay's ids only in
 * their metadata, and every status and SDK error is mapped exhaustively into core's vocabulary.
 */
export function createStripeGateway(
  options: StripeGatewayOptions,
): PaymentGateway & GatewayEvents & RefundGateway & ReconcileGateway {
  checkOptions(options);
  const limiter = options.rateLimit === undefined ? null : createOutboundRateLimiter(options.rateLimit);
  const stripe = new Stripe(options.secretKey, {
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.protocol === undefined ? {} : { protocol: options.protocol }),
    ...(options.apiVersion === undefined ? {} : { apiVersion: options.apiVersion }),
    timeout: options.timeoutMs,
    maxNetworkRetries: options.maxNetworkRetries,
    // Request timings of the previous call go to Stripe in a header otherwise; pay has its own metrics.
    telemetry: false,
    appInfo: { name: 'pay' },
  });
  return new StripeGateway(stripe, limiter);
}

/** One page of a Stripe list, as the SDK returns it. */
interface ListPage<T> {
  readonly data: T[];
  readonly has_more: boolean;
}

class StripeGateway implements PaymentGateway, GatewayEvents, RefundGateway, ReconcileGateway {
  constructor(
    private readonly stripe: Stripe,
    private readonly limiter: OutboundRateLimiter | null,
  ) {}

  /**
   * Waits for the limiter's token for one request of `call`. A request it refuses is never sent, so
   * Stripe did nothing: the flow that made it pauses at its last recovery point and releases its key
   * (`releaseKey` in `@pay/core`), and the client's retry with the same key resumes from there.
   */
  private async admit(call: StripeCall): Promise<void> {
    await this.limiter?.acquire(STRIPE_ENDPOINTS[call], call);
  }

  /** One request of `call`, through the limiter, its SDK errors mapped to PayErrors. */
  private request<T>(call: StripeCall, run: () => Promise<T>): Promise<T> {
    return callStripe(call, async () => {
      await this.admit(call);
      return run();
    });
  }

  /**
   * Every item of a Stripe list, page after page; each page is a request of its own, so each takes
   * its own token (the SDK's auto-pagination would send the later pages past the limiter).
   */
  private async listAll<T extends { id: string }>(
    call: StripeCall,
    page: (startingAfter: string | undefined) => Promise<ListPage<T>>,
  ): Promise<T[]> {
    const items: T[] = [];
    let startingAfter: string | undefined;
    for (;;) {
      const { data, has_more } = await this.request(call, () => page(startingAfter));
      items.push(...data);
      const last = data.at(-1);
      if (!has_more || last === undefined) {
        return items;
      }
      startingAfter = last.id;
    }
  }

  async createCustomer(input: CreateGatewayCustomerInput): Promise<GatewayCustomer> {
    const customer = await this.request('customers.create', () =>
      this.stripe.customers.create(
        {
          ...(input.email === undefined || input.email === null ? {} : { email: input.email }),
          metadata: { [METADATA_ACCOUNT_ID]: input.accountId, [METADATA_CUSTOMER_ID]: input.customerId },
        },
        { idempotencyKey: input.idempotencyKey },
      ),
    );
    return { stripeCustomerId: customer.id };
  }

  async attachPaymentMethod(input: AttachPaymentMethodInput): Promise<AttachOutcome> {
    await this.admit('paymentMethods.attach');
    let method: Stripe.PaymentMethod;
    try {
      method = await this.stripe.paymentMethods.attach(
        input.paymentMethod,
        { customer: input.stripeCustomerId },
        { idempotencyKey: input.idempotencyKey },
      );
    } catch (error) {
      if (error instanceof Stripe.errors.StripeCardError) {
        return { kind: 'declined', decline: declineFrom(error, 'paymentMethods.attach') };
      }
      throw toPayError(error, 'paymentMethods.attach');
    }
    const card = method.card;
    if (card === undefined || card === null) {
      throw new GatewayRejectedError(
        `PaymentMethod ${method.id} is a ${method.type}; pay takes cards only.`,
        {
          param: 'payment_method',
          gatewayCode: null,
          context: { stripePaymentMethodId: method.id, type: method.type },
        },
      );
    }
    // Only what identifies the card to people leaves this function (DESIGN.md §2.2).
    return {
      kind: 'attached',
      card: {
        stripePaymentMethodId: method.id,
        brand: card.brand,
        last4: card.last4,
        expMonth: card.exp_month,
        expYear: card.exp_year,
      },
    };
  }

  async createIntent(input: CreateIntentInput): Promise<GatewayIntent> {
    const intent = await this.request('paymentIntents.create', () =>
      this.stripe.paymentIntents.create(
        {
          amount: input.amount,
          currency: input.currency,
          customer: input.stripeCustomerId,
          payment_method: input.stripePaymentMethodId,
          // Cards only: with Stripe's dynamic payment methods every on-session confirmation would need a
          // return URL, and pay takes no method that redirects by nature.
          allowed_payment_method_types: ['card'],
          ...(input.setupFutureUsage === undefined ? {} : { setup_future_usage: input.setupFutureUsage }),
          metadata: { [METADATA_PAYMENT_ID]: input.paymentId, [METADATA_ACCOUNT_ID]: input.accountId },
        },
        { idempotencyKey: input.idempotencyKey },
      ),
    );
    return toGatewayIntent(intent);
  }

  async confirmIntent(input: ConfirmIntentInput): Promise<ConfirmOutcome> {
    await this.admit('paymentIntents.confirm');
    let intent: Stripe.PaymentIntent;
    try {
      intent = await this.stripe.paymentIntents.confirm(
        input.stripePaymentIntentId,
        {
          ...(input.returnUrl === undefined ? {} : { return_url: input.returnUrl }),
          ...(input.offSession === undefined ? {} : { off_session: input.offSession }),
        },
        { idempotencyKey: input.idempotencyKey },
      );
    } catch (error) {
      if (error instanceof Stripe.errors.StripeCardError) {
        // A decline is an answer: the 402 carries the intent, back in requires_payment_method.
        return {
          kind: 'declined',
          intent: error.payment_intent === undefined ? null : toGatewayIntent(error.payment_intent),
          decline: declineFrom(error, 'paymentIntents.confirm'),
        };
      }
      throw toPayError(error, 'paymentIntents.confirm');
    }
    return confirmOutcomeOf(toGatewayIntent(intent));
  }

  async retrieveIntent(stripePaymentIntentId: string): Promise<GatewayIntent> {
    const intent = await this.request('paymentIntents.retrieve', () =>
      this.stripe.paymentIntents.retrieve(stripePaymentIntentId),
    );
    return toGatewayIntent(intent);
  }

  /**
   * Lists the customer's intents and matches the metadata. Not Stripe's search API: search is eventually
   * consistent (an intent created a moment ago may be missing, which is exactly recovery's case) and the
   * sandbox does not serve it.
   */
  async findIntentByPaymentId(input: FindIntentInput): Promise<GatewayIntent | null> {
    const intents = await this.listAll('paymentIntents.list', (startingAfter) =>
      this.stripe.paymentIntents.list({
        customer: input.stripeCustomerId,
        limit: 100,
        ...(input.createdAfter === undefined
          ? {}
          : { created: { gte: Math.floor(input.createdAfter.getTime() / 1000) } }),
        ...(startingAfter === undefined ? {} : { starting_after: startingAfter }),
      }),
    );
    const matches = intents.filter((intent) => intent.metadata[METADATA_PAYMENT_ID] === input.paymentId);
    const [first, ...others] = matches;
    if (others.length > 0) {
      throw new InternalError(
        `Stripe holds ${matches.length} PaymentIntents for payment ${input.paymentId}.`,
        {
          context: { paymentId: input.paymentId, stripePaymentIntentIds: matches.map((m) => m.id) },
        },
      );
    }
    return first === undefined ? null : toGatewayIntent(first);
  }

  async cancelIntent(input: CancelIntentInput): Promise<GatewayIntent> {
    const intent = await this.request('paymentIntents.cancel', () =>
      this.stripe.paymentIntents.cancel(
        input.stripePaymentIntentId,
        {},
        { idempotencyKey: input.idempotencyKey },
      ),
    );
    return toGatewayIntent(intent);
  }

  decodeEvent(payload: string): GatewayEvent {
    return decodeStripeEvent(payload);
  }

  async retrieveCharge(stripeChargeId: string): Promise<GatewayCharge> {
    const charge = await this.request('charges.retrieve', () => this.stripe.charges.retrieve(stripeChargeId));
    return toGatewayCharge(charge);
  }

  async retrieveRefund(stripeRefundId: string): Promise<GatewayRefund> {
    const refund = await this.request('refunds.retrieve', () => this.stripe.refunds.retrieve(stripeRefundId));
    return toGatewayRefund(refund);
  }

  async createRefund(input: CreateGatewayRefundInput): Promise<GatewayRefund> {
    const refund = await this.request('refunds.create', () =>
      this.stripe.refunds.create(
        {
          payment_intent: input.stripePaymentIntentId,
          amount: input.amount,
          ...(input.reason === null ? {} : { reason: input.reason }),
          metadata: {
            [METADATA_REFUND_ID]: input.refundId,
            [METADATA_PAYMENT_ID]: input.paymentId,
            [METADATA_ACCOUNT_ID]: input.accountId,
          },
        },
        { idempotencyKey: input.idempotencyKey },
      ),
    );
    return toGatewayRefund(refund);
  }

  /**
   * Lists the intent's refunds and matches the metadata, for the same reasons as
   * {@link findIntentByPaymentId}: an intent has few refunds, and a list is consistent at once.
   */
  async findRefundByRefundId(input: FindGatewayRefundInput): Promise<GatewayRefund | null> {
    const refunds = await this.listAll('refunds.list', (startingAfter) =>
      this.stripe.refunds.list({
        payment_intent: input.stripePaymentIntentId,
        limit: 100,
        ...(startingAfter === undefined ? {} : { starting_after: startingAfter }),
      }),
    );
    const matches = refunds.filter((refund) => refund.metadata?.[METADATA_REFUND_ID] === input.refundId);
    const [first, ...others] = matches;
    if (others.length > 0) {
      // A second refund naming pay's id means its create was re-sent outside Stripe's key window: money
      // may have gone out twice, which is for a person to look at, not for recovery to pick from.
      throw new InternalError(`Stripe holds ${matches.length} Refunds for refund ${input.refundId}.`, {
        context: { refundId: input.refundId, stripeRefundIds: matches.map((m) => m.id) },
      });
    }
    return first === undefined ? null : toGatewayRefund(first);
  }

  /**
   * One page of Stripe's intents in the window (Stripe lists newest first), keeping those whose metadata
   * names a pay payment; the cursor is the last intent Stripe listed, kept or not.
   */
  async listIntents(input: ListIntentsInput): Promise<GatewayIntentPage> {
    const page = await this.request('paymentIntents.list', () =>
      this.stripe.paymentIntents.list({
        limit: 100,
        created: {
          gte: Math.floor(input.createdAfter.getTime() / 1000),
          ...(input.createdBefore === undefined
            ? {}
            : { lt: Math.ceil(input.createdBefore.getTime() / 1000) }),
        },
        ...(input.startingAfter === undefined ? {} : { starting_after: input.startingAfter }),
      }),
    );
    const last = page.data.at(-1);
    return {
      data: page.data
        .filter((intent) => typeof intent.metadata[METADATA_PAYMENT_ID] === 'string')
        .map(toGatewayIntent),
      nextStartingAfter: page.has_more && last !== undefined ? last.id : null,
    };
  }

  async listRefundsOfIntent(stripePaymentIntentId: string): Promise<readonly GatewayRefund[]> {
    const refunds = await this.listAll('refunds.list', (startingAfter) =>
      this.stripe.refunds.list({
        payment_intent: stripePaymentIntentId,
        limit: 100,
        ...(startingAfter === undefined ? {} : { starting_after: startingAfter }),
      }),
    );
    return refunds.map(toGatewayRefund);
  }

  async retrieveDispute(stripeDisputeId: string): Promise<GatewayDispute> {
    const dispute = await this.request('disputes.retrieve', () =>
      this.stripe.disputes.retrieve(stripeDisputeId),
    );
    return toGatewayDispute(dispute);
  }

  /**
   * One page of `GET /v1/events` (the SDK's list call; the caller follows `hasMore` with the last id,
   * as the SDK's auto-pagination does). Each event is kept as the JSON the API returned, re-serialised:
   * the SDK hands over the parsed object, and its fields are Stripe's, nothing added.
   */
  async listEvents(query: ListEventsQuery): Promise<Page<ListedGatewayEvent>> {
    const page = await this.request('events.list', () =>
      this.stripe.events.list({
        limit: EVENT_PAGE_SIZE,
        created: { gte: Math.floor(query.createdAfter.getTime() / 1000) },
        ...(query.deliverySuccess === undefined ? {} : { delivery_success: query.deliverySuccess }),
        ...(query.types === undefined ? {} : { types: [...query.types] }),
        ...(query.startingAfter === undefined ? {} : { starting_after: query.startingAfter }),
      }),
    );
    return {
      data: page.data.map((event) => ({
        stripeEventId: event.id,
        created: new Date(event.created * 1000),
        payload: JSON.stringify(event),
      })),
      hasMore: page.has_more,
    };
  }
}

/** Stripe's largest page. */
const EVENT_PAGE_SIZE = 100;
