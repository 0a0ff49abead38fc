import { DISPUTE_STATUSES, type DisputeStatus, type RefundStatus } from '../domain/statuses.js';
import type { RefundId } from '../ids.js';
import type { Currency } from '../money.js';
import type { GatewayIntent } from './gateway.js';
import type { Page } from './page.js';

/*
 * Stripe's webhook events in core's words. `@pay/stripe-adapter` decodes a delivery's raw payload into a
 * GatewayEvent (after the API verified its signature) and fetches the objects events are about; core's
 * webhook handlers see nothing of Stripe's own types (STYLE.md R2).
 */

/** A charge as pay needs it: what was captured and how much of it went back. */
export interface GatewayCharge {
  readonly stripeChargeId: string;
  readonly stripePaymentIntentId: string | null;
  /** Minor units asked. */
  readonly amount: number;
  readonly amountCaptured: number;
  /** Minor units refunded so far: Stripe's running total, set from the object, never added up by pay. */
  readonly amountRefunded: number;
  readonly currency: Currency;
  readonly status: 'succeeded' | 'pending' | 'failed';
  readonly created: Date;
}

/** A refund's status in pay's vocabulary (Stripe's `requires_action` is reported as `pending`). */
export type GatewayRefundStatus = Extract<RefundStatus, 'pending' | 'succeeded' | 'failed' | 'canceled'>;

/** A refund at Stripe, made through pay or in Stripe's dashboard. */
export interface GatewayRefund {
  readonly stripeRefundId: string;
  readonly stripePaymentIntentId: string | null;
  readonly stripeChargeId: string | null;
  readonly amount: number;
  readonly currency: Currency;
  readonly status: GatewayRefundStatus;
  /** Stripe's reason (`requested_by_customer`, `duplicate`, `fraudulent`), null when none was given. */
  readonly reason: string | null;
  /** Why it failed (`expired_or_canceled_card`, …), when it did. */
  readonly failureReason: string | null;
  /** pay's refund id from the refund's metadata; null for a refund pay did not make. */
  readonly refundId: RefundId | null;
  readonly created: Date;
}

/** Stripe's dispute statuses: pay keeps a dispute's status in Stripe's own words (DISPUTE_STATUSES). */
export const GATEWAY_DISPUTE_STATUSES: readonly DisputeStatus[] = DISPUTE_STATUSES;
export type GatewayDisputeStatus = DisputeStatus;

/** A dispute (chargeback) opened by the card holder's bank on a charge. */
export interface GatewayDispute {
  readonly stripeDisputeId: string;
  readonly stripeChargeId: string;
  readonly stripePaymentIntentId: string | null;
  readonly amount: number;
  readonly currency: Currency;
  readonly reason: string;
  readonly status: GatewayDisputeStatus;
  readonly created: Date;
}

/** The object an event is about, decoded; `other` for the types pay does not handle (acknowledged, ignored). */
export type GatewayEventObject =
  | { readonly kind: 'payment_intent'; readonly intent: GatewayIntent }
  | { readonly kind: 'charge'; readonly charge: GatewayCharge }
  | { readonly kind: 'refund'; readonly refund: GatewayRefund }
  | { readonly kind: 'dispute'; readonly dispute: GatewayDispute }
  | { readonly kind: 'other' };

/** One Stripe event, decoded from the bytes Stripe signed. */
export interface GatewayEvent {
  readonly stripeEventId: string;
  /** Stripe's event type (`payment_intent.succeeded`, `charge.refunded`, …). */
  readonly type: string;
  readonly apiVersion: string | null;
  readonly livemode: boolean;
  /** When Stripe created the event: the order of events for one object, within a second at best. */
  readonly created: Date;
  /** The id of the object the event is about (`data.object.id`), null when it has none. */
  readonly objectId: string | null;
  /** The object as it was when the event was created: a snapshot, possibly older than Stripe's now. */
  readonly object: GatewayEventObject;
}

/**
 * What the webhook inbox needs from the gateway besides the payment calls: decoding a stored payload,
 * and Stripe's current state of the objects events are about (for when an event's snapshot cannot tell
 * which came last). Every retrieve is a network call: never make one inside a transaction.
 */
export interface GatewayEvents {
  /**
   * Decodes the raw payload of a verified delivery. A payload that is not an event pay can read throws
   * `UnknownGatewayStateError`; an event of a type pay does not handle decodes with `object.kind: 'other'`.
   */
  decodeEvent(payload: string): GatewayEvent;
  retrieveCharge(stripeChargeId: string): Promise<GatewayCharge>;
  retrieveRefund(stripeRefundId: string): Promise<GatewayRefund>;
  retrieveDispute(stripeDisputeId: string): Promise<GatewayDispute>;
  /**
   * One page of Stripe's events (newest first, as Stripe lists them), for catching up on events a
   * webhook outage lost. Each carries its JSON as Stripe's API returned it, which the inbox stores as it
   * stores a delivery's body.
   */
  listEvents(query: ListEventsQuery): Promise<Page<ListedGatewayEvent>>;
}

/** Which of Stripe's events to list (`GET /v1/events`); Stripe keeps them 30 days. */
export interface ListEventsQuery {
  /** Events Stripe created at or after this (`created[gte]`, whole seconds). */
  readonly createdAfter: Date;
  /**
   * `false`: only events some endpoint failed to take (Stripe's `delivery_success`); `true`: only those
   * every endpoint took. Absent: every event, delivery attempted or not.
   */
  readonly deliverySuccess?: boolean;
  /** Only events of these types (at most 20, Stripe's limit); every type when absent. */
  readonly types?: readonly string[];
  /** The last event id (`evt_…`) of the previous page. */
  readonly startingAfter?: string;
}

/** An event as Stripe's events API lists it. */
export interface ListedGatewayEvent {
  readonly stripeEventId: string;
  readonly created: Date;
  /** The event object as JSON, as Stripe's API returned it (not signed: it came over the authenticated API). */
  readonly payload: string;
}
