import {
  UnknownGatewayStateError,
  systemClock,
  type Clock,
  type DisputeStatus,
  type GatewayCharge,
  type GatewayDispute,
  type GatewayEvent,
  type GatewayEventObject,
  type GatewayEvents,
  type GatewayIntent,
  type GatewayRefund,
  type ListedGatewayEvent,
  type ListEventsQuery,
  type Page,
} from '../../src/index.js';
import { MemoryGateway } from './memory-gateway.js';

/** One event as Stripe would deliver it: the raw payload and what it decodes to. */
export interface Delivery {
  readonly stripeEventId: string;
  readonly type: string;
  readonly payload: string;
}

/** What the twin's retrieve calls were asked for, so tests can say "fetched" or "not fetched". */
export interface RetrieveCall {
  readonly method: 'retrieveCharge' | 'retrieveRefund' | 'retrieveDispute';
  readonly id: string;
}

/**
 * The in-memory gateway plus the GatewayEvents port (STYLE.md R2): charges, refunds and disputes held
 * as Stripe holds them, events built from their snapshots (the payload is the decoded event as JSON,
 * which `decodeEvent` reads back), and retrieves that answer the current state. Test-only moves
 * (`refund`, `setRefundStatus`, `openDispute`, `setDisputeStatus`) change Stripe's state as its
 * dashboard or the bank would.
 */
export class MemoryStripe extends MemoryGateway implements GatewayEvents {
  readonly retrieves: RetrieveCall[] = [];
  /** Called before every retrieve: a test's guard (say, "never inside a transaction"). */
  beforeRetrieve: (method: RetrieveCall['method'] | 'retrieveIntent') => void = () => undefined;
  private readonly disputes = new Map<string, GatewayDispute>();
  private sequenceOfObjects = 0;

  constructor(private readonly stripeClock: Clock = systemClock) {
    super(stripeClock);
  }

  /** The intent as Stripe holds it now. */
  intent(stripePaymentIntentId: string): GatewayIntent {
    const intent = this.allIntents().find((i) => i.stripePaymentIntentId === stripePaymentIntentId);
    if (intent === undefined) {
      throw new Error(`the twin holds no intent ${stripePaymentIntentId}`);
    }
    return intent;
  }

  /** The bank opens a dispute on an intent's charge. */
  openDispute(stripePaymentIntentId: string, status: DisputeStatus = 'needs_response'): GatewayDispute {
    const charge = this.chargeOf(stripePaymentIntentId);
    const dispute: GatewayDispute = {
      stripeDisputeId: this.nextObjectId('dp'),
      stripeChargeId: charge.stripeChargeId,
      stripePaymentIntentId,
      amount: charge.amount,
      currency: charge.currency,
      reason: 'fraudulent',
      status,
      created: this.stripeClock.now(),
    };
    this.disputes.set(dispute.stripeDisputeId, dispute);
    return dispute;
  }

  setDisputeStatus(stripeDisputeId: string, status: DisputeStatus): GatewayDispute {
    const next = { ...this.disputeOf(stripeDisputeId), status };
    this.disputes.set(stripeDisputeId, next);
    return next;
  }

  /** An event of `type` about `object` (a snapshot), created now unless `created` says otherwise. */
  event(type: string, object: GatewayEventObject, created: Date = this.stripeClock.now()): Delivery {
    const stripeEventId = this.nextObjectId('evt');
    const event: GatewayEvent = {
      stripeEventId,
      type,
      apiVersion: '2026-10-28.endive',
      livemode: false,
      // Stripe's `created` has whole seconds.
      created: new Date(Math.floor(created.getTime() / 1000) * 1000),
      objectId: objectIdOf(object),
      object,
    };
    const delivery = { stripeEventId, type, payload: JSON.stringify(event) };
    this.emitted.push({ delivery, created: event.created, deliverySuccess: null });
    return delivery;
  }

  /** An event about the intent as it is now. */
  intentEvent(type: string, stripePaymentIntentId: string): Delivery {
    return this.event(type, { kind: 'payment_intent', intent: this.intent(stripePaymentIntentId) });
  }

  /** A `charge.refunded` (or other charge event) about the intent's charge as it is now. */
  chargeEvent(stripePaymentIntentId: string, type = 'charge.refunded'): Delivery {
    return this.event(type, { kind: 'charge', charge: this.chargeOf(stripePaymentIntentId) });
  }

  refundEvent(type: string, stripeRefundId: string): Delivery {
    return this.event(type, { kind: 'refund', refund: this.refundOf(stripeRefundId) });
  }

  disputeEvent(type: string, stripeDisputeId: string): Delivery {
    return this.event(type, { kind: 'dispute', dispute: this.disputeOf(stripeDisputeId) });
  }

  override retrieveIntent(stripePaymentIntentId: string): Promise<GatewayIntent> {
    this.beforeRetrieve('retrieveIntent');
    return super.retrieveIntent(stripePaymentIntentId);
  }

  decodeEvent(payload: string): GatewayEvent {
    try {
      const event = JSON.parse(payload, (key, value: unknown) =>
        key === 'created' && typeof value === 'string' ? new Date(value) : value,
      ) as GatewayEvent;
      if (typeof event.stripeEventId !== 'string' || typeof event.type !== 'string') {
        throw new Error('not an event');
      }
      return event;
    } catch (error) {
      throw new UnknownGatewayStateError('The payload is not a Stripe event pay can read (twin).', {
        cause: error,
      });
    }
  }

  retrieveCharge(stripeChargeId: string): Promise<GatewayCharge> {
    this.beforeRetrieve('retrieveCharge');
    this.retrieves.push({ method: 'retrieveCharge', id: stripeChargeId });
    const charge = this.charges.get(stripeChargeId);
    return charge === undefined
      ? Promise.reject(new Error(`No such charge: ${stripeChargeId}`))
      : Promise.resolve(charge);
  }

  override retrieveRefund(stripeRefundId: string): Promise<GatewayRefund> {
    this.beforeRetrieve('retrieveRefund');
    this.retrieves.push({ method: 'retrieveRefund', id: stripeRefundId });
    return super.retrieveRefund(stripeRefundId);
  }

  retrieveDispute(stripeDisputeId: string): Promise<GatewayDispute> {
    this.beforeRetrieve('retrieveDispute');
    this.retrieves.push({ method: 'retrieveDispute', id: stripeDisputeId });
    return Promise.resolve(this.disputeOf(stripeDisputeId));
  }

  private disputeOf(id: string): GatewayDispute {
    const dispute = this.disputes.get(id);
    if (dispute === undefined) {
      throw new Error(`the twin holds no dispute ${id}`);
    }
    return dispute;
  }

  /*
   * Stripe's events API: every event the twin made, with what its deliveries came to (null before any
   * attempt, as Stripe's `delivery_success` filter matches neither true nor false then).
   */
  private readonly emitted: { delivery: Delivery; created: Date; deliverySuccess: boolean | null }[] = [];
  /** Events per `listEvents` page (Stripe's max is 100); small in tests that page. */
  eventPageSize = 100;
  /** Every `listEvents` query, in order. */
  readonly eventListings: ListEventsQuery[] = [];

  /** Records how Stripe's delivery of the event went: `false` after a failed attempt, `true` once taken. */
  deliveryAttempted(stripeEventId: string, succeeded: boolean): void {
    const record = this.emitted.find((e) => e.delivery.stripeEventId === stripeEventId);
    if (record === undefined) {
      throw new Error(`the twin made no event ${stripeEventId}`);
    }
    record.deliverySuccess = succeeded;
  }

  listEvents(query: ListEventsQuery): Promise<Page<ListedGatewayEvent>> {
    this.eventListings.push(query);
    const oldest = this.stripeClock.now().getTime() - 30 * 24 * 60 * 60 * 1000;
    const matching = this.emitted
      .filter(
        (e) =>
          e.created.getTime() >= Math.max(oldest, query.createdAfter.getTime()) &&
          (query.deliverySuccess === undefined || e.deliverySuccess === query.deliverySuccess) &&
          (query.types === undefined || query.types.includes(e.delivery.type)),
      )
      .reverse()
      .sort((a, b) => b.created.getTime() - a.created.getTime());
    const start =
      query.startingAfter === undefined
        ? 0
        : matching.findIndex((e) => e.delivery.stripeEventId === query.startingAfter) + 1;
    if (query.startingAfter !== undefined && start === 0) {
      return Promise.reject(new Error(`No such event: ${query.startingAfter}`));
    }
    const page = matching.slice(start, start + this.eventPageSize);
    return Promise.resolve({
      data: page.map((e) => ({
        stripeEventId: e.delivery.stripeEventId,
        created: e.created,
        payload: e.delivery.payload,
      })),
      hasMore: start + page.length < matching.length,
    });
  }

  private nextObjectId(prefix: string): string {
    this.sequenceOfObjects += 1;
    return `${prefix}_twin${String(this.sequenceOfObjects).padStart(6, '0')}`;
  }
}

function objectIdOf(object: GatewayEventObject): string | null {
  switch (object.kind) {
    case 'payment_intent':
      return object.intent.stripePaymentIntentId;
    case 'charge':
      return object.charge.stripeChargeId;
    case 'refund':
      return object.refund.stripeRefundId;
    case 'dispute':
      return object.dispute.stripeDisputeId;
    default:
      return null;
  }
}
