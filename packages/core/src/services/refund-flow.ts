import type { Cause, IdempotencyKey, Refund } from '../domain/entities.js';
import { GatewayRejectedError, InternalError } from '../errors.js';
import { isId, type RefundId } from '../ids.js';
import type { Clock } from '../ports/clock.js';
import type { FaultPoints } from '../ports/faults.js';
import type { Logger } from '../ports/logger.js';
import {
  GATEWAY_REFUND_REASONS,
  type GatewayRefundReason,
  type RefundGateway,
} from '../ports/refund-gateway.js';
import type { Store } from '../ports/store.js';
import { FINISHED_RECOVERY_POINT } from './idempotency.js';
import { observed } from './payment-gateway-calls.js';
import { releaseKey, type PausedFlow } from './key-release.js';
import {
  createRefundCallKey,
  pastRefundKeyWindow,
  reachRefundPoint,
  type RefundGatewayCallName,
} from './refund-gateway-calls.js';
import { recordRefundObservation, type RecordedRefund, type RefundObservation } from './refund-outcome.js';
import { encodeRefundResult } from './refund-result-codec.js';
import type { RefundAttempt, RefundSubscriptionPolicy } from './refund-results.js';

/** What the refund flow runs on: the service's dependencies with their defaults applied. */
export interface RefundFlowDeps {
  readonly store: Store;
  readonly gateway: RefundGateway;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly faults: FaultPoints;
  readonly subscriptionPolicy: RefundSubscriptionPolicy;
  readonly observeGatewayCall:
    ((call: RefundGatewayCallName, seconds: number, outcome: 'ok' | 'error') => void) | undefined;
}

/** The HTTP status stored with every answered refund: the refund exists, whatever its status. */
export const REFUND_RESPONSE_STATUS = 201;

/** Stripe's reason for the operator's, when the operator's is one of Stripe's. */
export function gatewayReasonOf(reason: string | null): GatewayRefundReason | null {
  return GATEWAY_REFUND_REASONS.find((r) => r === reason) ?? null;
}

/** The refund a key created or approved. */
export function refundIdOf(key: IdempotencyKey): RefundId {
  const id = key.resourceId;
  if (id === null || !isId('refund', id)) {
    throw new InternalError(`Idempotency key ${key.id} names no refund.`, {
      context: { idempotencyKeyId: key.id },
    });
  }
  return id;
}

const REFUND_FLOW: PausedFlow = {
  name: 'refund',
  resourceField: 'refundId',
  progress: 'the refund’s progress',
};

/**
 * The refund flow after its first transaction (atomic phases, as payments): Stripe is asked outside any
 * transaction with pay's deterministic key, and its answer is recorded in one short transaction that
 * stores the response on the key. Driven by the request, by a retry that took the key over, and by
 * the recovery job; each continues from the refund's row and never makes a second Stripe refund.
 */
export class RefundFlow {
  constructor(private readonly deps: RefundFlowDeps) {}

  /**
   * Drives the refund of `key` (locked by the caller) to Stripe's answer, stores it on the key and
   * returns it. On failure the key is released, the refund stays `pending`, and the error is thrown:
   * retryable ones as a {@link DependencyUnavailableError} (503: retry with the same key).
   */
  async run(key: IdempotencyKey, cause: Cause): Promise<RefundAttempt> {
    try {
      const refund = await this.deps.store.repos.refunds.findById(key.accountId, refundIdOf(key));
      if (refund === null) {
        throw new InternalError(`Refund ${key.resourceId ?? ''} of key ${key.id} does not exist.`);
      }
      const observation = await this.ask(refund);
      return await this.finish(key, refund, observation, cause);
    } catch (error) {
      throw await this.release(key, error);
    }
  }

  /**
   * Phase 2: a refund not yet at Stripe is created there (the same key on every attempt); past
   * Stripe's key window it is looked up instead, and one Stripe does not hold is abandoned. A refund
   * Stripe knows (or that no longer waits to be sent) is answered from its row. `now` decides the
   * window: recovery passes the time of its pass, as it does for payments.
   */
  async ask(refund: Refund, now: Date = this.deps.clock.now()): Promise<RefundObservation> {
    if (refund.status !== 'pending' || refund.stripeRefundId !== null) {
      return { kind: 'none' };
    }
    const payment = await this.deps.store.repos.payments.findById(refund.accountId, refund.paymentId);
    const intentId = payment?.stripePaymentIntentId ?? null;
    if (intentId === null) {
      throw new InternalError(`Refund ${refund.id} is of a payment without a PaymentIntent.`);
    }
    if (pastRefundKeyWindow(refund, now)) {
      // A create re-sent now could make a second refund: ask Stripe whether the first one exists.
      const found = await this.call('find_refund', () =>
        this.deps.gateway.findRefundByRefundId({ refundId: refund.id, stripePaymentIntentId: intentId }),
      );
      return found === null ? { kind: 'abandoned' } : { kind: 'gateway', refund: found };
    }
    reachRefundPoint(this.deps.faults, 'refund.before_gateway_call');
    try {
      const created = await this.call('create_refund', () =>
        this.deps.gateway.createRefund({
          refundId: refund.id,
          accountId: refund.accountId,
          paymentId: refund.paymentId,
          stripePaymentIntentId: intentId,
          amount: refund.amount,
          reason: gatewayReasonOf(refund.reason),
          idempotencyKey: createRefundCallKey(refund),
        }),
      );
      return { kind: 'gateway', refund: created };
    } catch (error) {
      if (!(error instanceof GatewayRejectedError)) {
        throw error;
      }
      // Stripe refused the refund itself (more than the charge has left, charged back): nothing
      // happened there, and the same request would be refused again, so the answer is final.
      return { kind: 'rejected', gatewayCode: error.gatewayCode, message: error.message };
    }
  }

  /** Phase 3 without a key (recovery's sweep): records `observation` in one transaction. */
  async settle(refund: Refund, observation: RefundObservation, cause: Cause): Promise<RecordedRefund> {
    return this.deps.store.transaction(async (tx) => {
      const recorded = await recordRefundObservation(tx, refund, observation, this.recordOptions(cause));
      reachRefundPoint(this.deps.faults, 'refund.after_gateway_before_commit');
      return recorded;
    });
  }

  /** Phase 3: records `observation`, stores the answer on the key and releases it, in one transaction. */
  private async finish(
    key: IdempotencyKey,
    refund: Refund,
    observation: RefundObservation,
    cause: Cause,
  ): Promise<RefundAttempt> {
    const recorded = await this.deps.store.transaction(async (tx) => {
      const result = await recordRefundObservation(tx, refund, observation, this.recordOptions(cause));
      await tx.idempotencyKeys.update(key.id, {
        recoveryPoint: FINISHED_RECOVERY_POINT,
        lockedAt: null,
        responseStatus: REFUND_RESPONSE_STATUS,
        responseBody: encodeRefundResult(result),
      });
      if (observation.kind !== 'none') {
        reachRefundPoint(this.deps.faults, 'refund.after_gateway_before_commit');
      }
      return result;
    });
    reachRefundPoint(this.deps.faults, 'refund.after_commit_before_response');
    this.deps.logger.info('refund answered', {
      refundId: recorded.refund.id,
      paymentId: recorded.payment.id,
      status: recorded.refund.status,
    });
    return { refund: recorded.refund, payment: recorded.payment, replayed: false };
  }

  private recordOptions(cause: Cause) {
    const { subscriptionPolicy: policy, logger } = this.deps;
    return { cause, policy, now: this.deps.clock.now(), logger };
  }

  private call<T>(name: RefundGatewayCallName, run: () => Promise<T>): Promise<T> {
    return observed(name, this.deps.observeGatewayCall, run);
  }

  /** Releases the key (the refund stays `pending`): see {@link releaseKey}. */
  private release(key: IdempotencyKey, error: unknown): Promise<unknown> {
    return releaseKey(this.deps, key, error, REFUND_FLOW);
  }
}
