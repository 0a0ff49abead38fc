import type { Cause, Payment, Refund } from '../domain/entities.js';
import { DependencyUnavailableError, InternalError, isPayError } from '../errors.js';
import { isId, newId, type AccountId, type RefundId } from '../ids.js';
import type { Clock } from '../ports/clock.js';
import { noFaults, type FaultPoints } from '../ports/faults.js';
import type { Logger } from '../ports/logger.js';
import type { RefundGateway } from '../ports/refund-gateway.js';
import type { Repositories } from '../ports/repositories.js';
import type { Store } from '../ports/store.js';
import type { Actor } from './account-service.js';
import {
  DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS,
  FINISHED_RECOVERY_POINT,
  hashIdempotentRequest,
  startIdempotentRequest,
  type IdempotencyStart,
} from './idempotency.js';
import type { IdempotentRequest } from './payment-results.js';
import { RefundFlow, type RefundFlowDeps } from './refund-flow.js';
import { reachRefundPoint } from './refund-gateway-calls.js';
import { checkCreateRefundInput, findRefundablePayment, noSuchPayment, planRefund } from './refund-input.js';
import { recoverRefunds } from './refund-recovery.js';
import {
  SelfApprovalError,
  needsApproval,
  noSuchRefund,
  recordRefundApproval,
  recordRefundRequest,
} from './refund-requests.js';
import { decodeRefundResult } from './refund-result-codec.js';
import type {
  ApproveRefundInput,
  CreateRefundInput,
  RefundAttempt,
  RefundRecoveryReport,
  RefundSubscriptionPolicy,
} from './refund-results.js';

export {
  REFUND_CRASH_POINTS,
  REFUND_RECOVERY_POINTS,
  type RefundCrashPoint,
  type RefundGatewayCallName,
} from './refund-gateway-calls.js';
export { MAX_REFUND_REASON_LENGTH } from './refund-input.js';
export { ABANDONED_FAILURE_REASON } from './refund-outcome.js';
export { applyFullRefundPolicy } from './subscription-refund-policy.js';

/** What {@link RefundService} is built from; `createPay` in `@pay/runtime` wires it from config. */
export interface RefundServiceDeps {
  /** Where refunds, payments, keys and audit rows live; each phase is one short transaction. */
  readonly store: Store;
  /** Stripe, for creating, fetching and finding refunds; never called inside a transaction. */
  readonly gateway: RefundGateway;
  /** The time source for lock expiry and event timestamps. */
  readonly clock: Clock;
  /** Where recovery failures, denied actions and unexpected gateway answers are logged. */
  readonly logger: Logger;
  /** Named crash points ({@link REFUND_CRASH_POINTS}); inert by default. */
  readonly faults?: FaultPoints;
  /** PAY_REFUND_APPROVAL_THRESHOLD: a refund above this many minor units waits for a second admin; null = no threshold. */
  readonly approvalThreshold: number | null;
  /** PAY_REFUND_SUBSCRIPTION_POLICY: what a full refund of a subscription's payment does to the subscription. */
  readonly subscriptionPolicy: RefundSubscriptionPolicy;
  /** How long a request may hold an idempotency key before a retry or recovery takes it over; 60 s. */
  readonly lockTimeoutMs?: number;
  /** Called after every gateway call with its duration, answered or not (metrics). */
  readonly observeGatewayCall?: (
    call: 'create_refund' | 'retrieve_refund' | 'find_refund',
    seconds: number,
    outcome: 'ok' | 'error',
  ) => void;
}

/** What a refused admin action was, for {@link RefundService.recordDenied}. */
export interface DeniedRefundAction {
  /** The account the refused action was aimed at; the audit row is written there. */
  readonly accountId: AccountId;
  /** Who was refused: recorded as the audit row's actor. */
  readonly actor: Actor;
  /** The action refused; the audit row is a `refund.denied` with this in `details.attempted`. */
  readonly attempted: 'refund.create' | 'refund.approve';
  /**
   * The payment (for `refund.create`) or refund (for `refund.approve`) the action was on; null when unknown.
   */
  readonly targetId: string | null;
  /** Why it was refused, in words for people reading the audit log. */
  readonly reason: string;
}

/** The request as stored on a refund key: enough to resume without the client. */
interface StoredRefundRequest {
  readonly version: 1;
  readonly command: 'create' | 'approve';
  readonly refundId: RefundId;
  readonly params: unknown;
}

/**
 * Admin refunds (issue 7): bounded by what the payment captured even when many admins refund it at once
 * (the payment's row lock in the refund's first transaction), four eyes above a threshold, one audit row
 * per command in its transaction, and Stripe asked in atomic phases with pay's own key, so a retry, a
 * crash or the recovery job never makes a second refund. The API checks the caller is an admin.
 */
export class RefundService {
  private readonly flow: RefundFlow;
  private readonly flowDeps: RefundFlowDeps;
  private readonly lockTimeoutMs: number;

  constructor(private readonly deps: RefundServiceDeps) {
    this.lockTimeoutMs = deps.lockTimeoutMs ?? DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS;
    this.flowDeps = {
      store: deps.store,
      gateway: deps.gateway,
      clock: deps.clock,
      logger: deps.logger,
      faults: deps.faults ?? noFaults,
      subscriptionPolicy: deps.subscriptionPolicy,
      observeGatewayCall: deps.observeGatewayCall,
    };
    this.flow = new RefundFlow(this.flowDeps);
  }

  /**
   * Refunds `input.amount` (default: all that remains) of a payment, once per idempotency key. Fields
   * are checked before anything is written; then, in one transaction under the payment's row lock, the
   * refund is planned against what remains (422 `refund_exceeds_captured` writes nothing, not even the
   * key), recorded with its audit row, and either parked for approval (above the threshold: answered
   * at once, nothing sent) or sent to Stripe. Same key: replay / 422 / 409 / resume, as for payments.
   */
  async create(input: CreateRefundInput, actor: Actor, request: IdempotentRequest): Promise<RefundAttempt> {
    this.checkSameAccount(input.accountId, request);
    const checked = checkCreateRefundInput(input);
    await findRefundablePayment(this.deps.store.repos, checked);
    const paramsHash = await hashIdempotentRequest(request);
    const now = this.deps.clock.now();
    const refundId = newId('refund', now);
    const start = await this.begin(async (tx) => {
      const begun = await startIdempotentRequest(tx, request, {
        now,
        lockTimeoutMs: this.lockTimeoutMs,
        paramsHash,
        requestParams: storedRequest('create', refundId, request.params),
      });
      if (begun.kind === 'replay' || begun.key.resourceId !== null) {
        return begun;
      }
      return {
        kind: begun.kind,
        key: await recordRefundRequest(
          tx,
          this.deps.approvalThreshold,
          checked,
          begun.key,
          refundId,
          actor,
          request,
        ),
      };
    });
    return this.continue(start, { requestId: request.requestId });
  }

  /**
   * Approves a refund waiting as `requires_approval` and sends it to Stripe. InvalidStateError (409)
   * when it does not wait for approval; ForbiddenError (403, audited as denied) when the approver is
   * the admin who asked for it: a second, different admin must approve.
   */
  async approve(input: ApproveRefundInput, actor: Actor, request: IdempotentRequest): Promise<RefundAttempt> {
    this.checkSameAccount(input.accountId, request);
    const refund = await this.get(input.accountId, input.refundId);
    const paramsHash = await hashIdempotentRequest(request);
    const now = this.deps.clock.now();
    let start: IdempotencyStart;
    try {
      start = await this.begin(async (tx) => {
        const begun = await startIdempotentRequest(tx, request, {
          now,
          lockTimeoutMs: this.lockTimeoutMs,
          paramsHash,
          requestParams: storedRequest('approve', refund.id, request.params),
        });
        if (begun.kind === 'replay' || begun.key.resourceId !== null) {
          return begun;
        }
        return { kind: begun.kind, key: await recordRefundApproval(tx, refund, begun.key, actor, request) };
      });
    } catch (error) {
      if (error instanceof SelfApprovalError) {
        await this.recordDenied({
          accountId: input.accountId,
          actor: { ...actor, requestId: actor.requestId ?? request.requestId },
          attempted: 'refund.approve',
          targetId: refund.id,
          reason: 'four_eyes: the admin who asked for the refund may not approve it',
        });
      }
      throw error;
    }
    return this.continue(start, { requestId: request.requestId });
  }

  /** The account's refund; NotFoundError for an unknown id, a malformed one, or another account's. */
  async get(accountId: AccountId, refundId: string): Promise<Refund> {
    if (typeof refundId !== 'string' || !isId('refund', refundId)) {
      throw noSuchRefund(String(refundId));
    }
    const refund = await this.deps.store.repos.refunds.findById(accountId, refundId);
    if (refund === null) {
      throw noSuchRefund(refundId);
    }
    return refund;
  }

  /** The refunds of the account's payment, newest first; NotFoundError when no such payment. */
  async listByPayment(accountId: AccountId, paymentId: string): Promise<Refund[]> {
    if (typeof paymentId !== 'string' || !isId('payment', paymentId)) {
      throw noSuchPayment(String(paymentId));
    }
    const { repos } = this.deps.store;
    if ((await repos.payments.findById(accountId, paymentId)) === null) {
      throw noSuchPayment(paymentId);
    }
    return repos.refunds.listByPayment(accountId, paymentId);
  }

  /**
   * What a create would do, without writing or locking: for the CLI's confirmation prompt. The same
   * checks and errors as create; `remaining` is what may be refunded before this refund.
   */
  async preview(
    input: CreateRefundInput,
  ): Promise<{ payment: Payment; amount: number; remaining: number; requiresApproval: boolean }> {
    const checked = checkCreateRefundInput(input);
    const { repos } = this.deps.store;
    const payment = await findRefundablePayment(repos, checked);
    const plan = planRefund(
      payment,
      await repos.refunds.listByPayment(payment.accountId, payment.id),
      checked.amount,
    );
    return {
      payment,
      amount: plan.amount,
      remaining: plan.remaining,
      requiresApproval: needsApproval(this.deps.approvalThreshold, plan.amount),
    };
  }

  /** Audits a refused admin action (a `service` key, or the requester approving its own refund) in its own transaction. */
  async recordDenied(input: DeniedRefundAction): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      await tx.audit.append({
        accountId: input.accountId,
        actorType: input.actor.type,
        actorId: input.actor.id,
        action: 'refund.denied',
        targetType: input.attempted === 'refund.create' ? 'payment' : 'refund',
        targetId: input.targetId,
        details: { attempted: input.attempted, outcome: 'denied', reason: input.reason },
        requestId: input.actor.requestId ?? null,
      });
    });
    this.deps.logger.warn('refund action denied', {
      accountId: input.accountId,
      actorType: input.actor.type,
      actorId: input.actor.id,
      attempted: input.attempted,
      targetId: input.targetId,
    });
  }

  /**
   * One pass of refund recovery (`pay recover`, the worker's loop): resumes refund keys left mid-flow and
   * brings pending refunds in line with Stripe. `now` (default: the clock) decides what is stale.
   */
  recover(now?: Date): Promise<RefundRecoveryReport> {
    return recoverRefunds(
      { ...this.flowDeps, lockTimeoutMs: this.lockTimeoutMs },
      this.flow,
      now ?? this.deps.clock.now(),
    );
  }

  private checkSameAccount(accountId: AccountId, request: IdempotentRequest): void {
    if (accountId !== request.accountId) {
      throw new InternalError('A refund request and its idempotency key name different accounts.');
    }
  }

  /** Runs the first transaction; a database failure becomes a retryable 503. */
  private async begin(fn: (tx: Repositories) => Promise<IdempotencyStart>): Promise<IdempotencyStart> {
    try {
      return await this.deps.store.transaction(fn);
    } catch (error) {
      throw isPayError(error)
        ? error
        : new DependencyUnavailableError(
            'pay could not record the refund; retry with the same Idempotency-Key.',
            {
              cause: error,
            },
          );
    }
  }

  /** After the first transaction: the stored answer, or the flow from the key's point. */
  private async continue(start: IdempotencyStart, cause: Cause): Promise<RefundAttempt> {
    if (start.kind === 'replay') {
      return { ...decodeRefundResult(start.key.responseBody), replayed: true };
    }
    if (start.kind === 'new') {
      reachRefundPoint(this.flowDeps.faults, 'refund.after_key_insert');
    }
    if (start.key.recoveryPoint === FINISHED_RECOVERY_POINT) {
      // Parked for approval: answered in the first transaction, nothing to send.
      return { ...decodeRefundResult(start.key.responseBody), replayed: false };
    }
    return this.flow.run(start.key, cause);
  }
}

function storedRequest(
  command: 'create' | 'approve',
  refundId: RefundId,
  params: unknown,
): StoredRefundRequest {
  return { version: 1, command, refundId, params: params ?? null };
}
