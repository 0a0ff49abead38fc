import type {
  AttachOutcome,
  AttachPaymentMethodInput,
  CancelIntentInput,
  ConfirmIntentInput,
  ConfirmOutcome,
  CreateGatewayCustomerInput,
  CreateGatewayRefundInput,
  CreateIntentInput,
  FindGatewayRefundInput,
  FindIntentInput,
  GatewayCharge,
  GatewayCustomer,
  GatewayDispute,
  GatewayEvent,
  GatewayEvents,
  GatewayIntent,
  GatewayRefund,
  PaymentGateway,
  RefundGateway,
  ListedGatewayEvent,
  ListEventsQuery,
  Page,
  GatewayIntentPage,
  ListIntentsInput,
  ReconcileGateway,
} from '@pay/core';
import { createStripeGateway, type ObserveStripeLimiter } from '@pay/stripe-adapter';
import type { PayConfig } from './config.js';
import type { StripeConnection } from './stripe-connection.js';

/**
 * Everything pay asks of Stripe: payments, refunds, for the webhook inbox events and their objects, and
 * reconciliation's lists.
 */
export type StripeGateway = PaymentGateway & GatewayEvents & RefundGateway & ReconcileGateway;

/**
 * The gateway on an open Stripe connection, as patient as `PAY_STRIPE_TIMEOUT_MS` and
 * `…_MAX_NETWORK_RETRIES` say, and holding its requests under `PAY_STRIPE_RATE_LIMIT` (per endpoint,
 * `…_PER_ENDPOINT`) unless that is 0. `observeLimiter` is told of every request the limit let through
 * or refused.
 */
export function gatewayFor(
  connection: StripeConnection,
  config: Pick<
    PayConfig,
    | 'stripeTimeoutMs'
    | 'stripeMaxNetworkRetries'
    | 'stripeRateLimit'
    | 'stripeRateLimitPerEndpoint'
    | 'stripeRateLimitMaxWaitMs'
  >,
  observeLimiter?: ObserveStripeLimiter,
): StripeGateway {
  return createStripeGateway({
    secretKey: connection.secretKey,
    host: connection.host,
    port: connection.port,
    protocol: connection.protocol,
    timeoutMs: config.stripeTimeoutMs,
    maxNetworkRetries: config.stripeMaxNetworkRetries,
    ...(config.stripeRateLimit === 0
      ? {}
      : {
          rateLimit: {
            perSecond: config.stripeRateLimit,
            perEndpointPerSecond: config.stripeRateLimitPerEndpoint,
            maxWaitMs: config.stripeRateLimitMaxWaitMs,
            ...(observeLimiter === undefined ? {} : { observe: observeLimiter }),
          },
        }),
  });
}

/**
 * A gateway that opens Stripe on its first call: the CLI's, so that a command which never pays (most
 * of them) starts no sandbox. `open` is called once; a failure to open is thrown to that call and
 * retried by the next one. Decoding an event needs no connection and is synchronous, so it is
 * `decodeEvent`'s, given up front (`decodeStripeEvent`).
 */
export function lazyGateway(
  open: () => Promise<StripeGateway>,
  decodeEvent: (payload: string) => GatewayEvent,
): StripeGateway {
  let opening: Promise<StripeGateway> | undefined;
  const gateway = (): Promise<StripeGateway> =>
    (opening ??= open().catch((error: unknown) => {
      opening = undefined;
      throw error;
    }));
  return {
    createCustomer: async (input: CreateGatewayCustomerInput): Promise<GatewayCustomer> =>
      (await gateway()).createCustomer(input),
    attachPaymentMethod: async (input: AttachPaymentMethodInput): Promise<AttachOutcome> =>
      (await gateway()).attachPaymentMethod(input),
    createIntent: async (input: CreateIntentInput): Promise<GatewayIntent> =>
      (await gateway()).createIntent(input),
    confirmIntent: async (input: ConfirmIntentInput): Promise<ConfirmOutcome> =>
      (await gateway()).confirmIntent(input),
    retrieveIntent: async (stripePaymentIntentId: string): Promise<GatewayIntent> =>
      (await gateway()).retrieveIntent(stripePaymentIntentId),
    findIntentByPaymentId: async (input: FindIntentInput): Promise<GatewayIntent | null> =>
      (await gateway()).findIntentByPaymentId(input),
    cancelIntent: async (input: CancelIntentInput): Promise<GatewayIntent> =>
      (await gateway()).cancelIntent(input),
    decodeEvent,
    retrieveCharge: async (stripeChargeId: string): Promise<GatewayCharge> =>
      (await gateway()).retrieveCharge(stripeChargeId),
    retrieveRefund: async (stripeRefundId: string): Promise<GatewayRefund> =>
      (await gateway()).retrieveRefund(stripeRefundId),
    retrieveDispute: async (stripeDisputeId: string): Promise<GatewayDispute> =>
      (await gateway()).retrieveDispute(stripeDisputeId),
    createRefund: async (input: CreateGatewayRefundInput): Promise<GatewayRefund> =>
      (await gateway()).createRefund(input),
    findRefundByRefundId: async (input: FindGatewayRefundInput): Promise<GatewayRefund | null> =>
      (await gateway()).findRefundByRefundId(input),
    listEvents: async (query: ListEventsQuery): Promise<Page<ListedGatewayEvent>> =>
      (await gateway()).listEvents(query),
    listIntents: async (input: ListIntentsInput): Promise<GatewayIntentPage> =>
      (await gateway()).listIntents(input),
    listRefundsOfIntent: async (stripePaymentIntentId: string): Promise<readonly GatewayRefund[]> =>
      (await gateway()).listRefundsOfIntent(stripePaymentIntentId),
  };
}
