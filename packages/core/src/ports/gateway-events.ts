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
  /** Stripe's id of the charge (`ch_…`). */
  readonly stripeChargeId: string;
  /**
   * The intent the charge belongs to (`pi_…`), how pay finds its payment; null for a charge made without one
   * (not pay's).
   */
  readonly stripePaymentIntentId: string | null;
  /** Minor units asked. */
  readonly amount: number;
  /** Minor units captured: what may be refunded at most. */
  readonly amountCaptured: number;
  /** Minor units refunded so far: Stripe's running total, set from the object, never added up by pay. */
  readonly amountRefunded: number;
  /** The currency of every amount of the charge. */
  readonly currency: Currency;
  /** Stripe's status of the charge, which has its own words, not a {@link PaymentStatus}. */
  readonly status: 'succeeded' | 'pending' | 'failed';
  /** When Stripe created the charge. */
  readonly created: Date;
}

/** A refund's status in pay's vocabulary (Stripe's `requires_action` is reported as `pending`). */
export type GatewayRefundStatus = Extract<RefundStatus, 'pending' | 'succeeded' | 'failed' | 'canceled'>;

/** A refund at Stripe, made through pay or in Stripe's dashboard. */
export interface GatewayRefund {
  /** Stripe's id of the refund (`re_…`). */
  readonly stripeRefundId: string;
  /** The intent refunded (`pi_…`), how pay finds the payment; null when Stripe does not say. */
  readonly stripePaymentIntentId: string | null;
  /** The charge refunded (`ch_…`), when Stripe says. */
  readonly stripeChargeId: string | null;
  /** Minor units given back by this refund alone. */
  readonly amount: number;
  /** The currency of `amount`: the payment's. */
  readonly currency: Currency;
  /** Stripe's status, translated into pay's words. */
  readonly status: GatewayRefundStatus;
  /** Stripe's reason (`requested_by_customer`, `duplicate`, `fraudulent`), null when none was given. */
  readonly reason: string | null;
  /** Why it failed (`expired_or_canceled_card`, …), when it did. */
  readonly failureReason: string | null;
  /** pay's refund id from the refund's metadata; null for a refund pay did not make. */
  readonly refundId: RefundId | null;
  /** When Stripe created the refund. */
  readonly created: Date;
}

/** Stripe's dispute statuses: pay keeps a dispute's status in Stripe's own words (DISPUTE_STATUSES). */
export const GATEWAY_DISPUTE_STATUSES: readonly DisputeStatus[] = DISPUTE_STATUSES;
/** A dispute status as Stripe reports it: the same words as {@link DisputeStatus}. */
export type GatewayDisputeStatus = DisputeStatus;

/** A dispute (chargeback) opened by the card holder's bank on a charge. */
export interface GatewayDispute {
  /** Stripe's id of the dispute (`dp_…`). */
  readonly stripeDisputeId: string;
  /** The charge disputed (`ch_…`). */
  readonly stripeChargeId: string;
  /** The intent of the charge (`pi_…`), how pay finds the payment; null when Stripe does not say. */
  readonly stripePaymentIntentId: string | null;
  /** Minor units disputed. */
  readonly amount: number;
  /** The currency of `amount`. */
  readonly currency: Currency;
  /** Stripe's reason (`fraudulent`, `product_not_received`, …), kept as Stripe says it. */
  readonly reason: string;
  /** Where the dispute is in Stripe's lifecycle. */
  readonly status: GatewayDisputeStatus;
  /** When the bank opened the dispute at Stripe. */
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
  /**
   * Stripe's id of the event (`evt_…`): unique, so one event is stored and applied once however often it
   * arrives.
   */
  readonly stripeEventId: string;
  /** Stripe's event type (`payment_intent.succeeded`, `charge.refunded`, …). */
  readonly type: string;
  /** The Stripe API version the event's object was rendered in; null when Stripe sent none. */
  readonly apiVersion: string | null;
  /** True for an event of Stripe's live mode, false for test mode. */
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
  /**
   * The charge as Stripe holds it now: its `amountRefunded` is the total pay records, newer than any
   * snapshot.
   */
  retrieveCharge(stripeChargeId: string): Promise<GatewayCharge>;
  /** The refund as Stripe holds it now (the same call as {@link RefundGateway.retrieveRefund}). */
  retrieveRefund(stripeRefundId: string): Promise<GatewayRefund>;
  /** The dispute as Stripe holds it now, for when an event's snapshot may be stale. */
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
  /**
   * Stripe's id of the event (`evt_…`): the inbox's unique key, so a listed event later delivered is one row.
   */
  readonly stripeEventId: string;
  /** When Stripe created the event. */
  readonly created: Date;
  /** The event object as JSON, as Stripe's API returned it (not signed: it came over the authenticated API). */
  readonly payload: string;
}
