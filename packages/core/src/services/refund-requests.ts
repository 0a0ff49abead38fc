import type { Cause, IdempotencyKey, Refund } from '../domain/entities.js';
import { ForbiddenError, InternalError, InvalidStateError, NotFoundError } from '../errors.js';
import type { RefundId } from '../ids.js';
import type { Repositories } from '../ports/repositories.js';
import type { Actor } from './account-service.js';
import { FINISHED_RECOVERY_POINT } from './idempotency.js';
import type { IdempotentRequest } from './payment-results.js';
import { REFUND_RESPONSE_STATUS } from './refund-flow.js';
import { stripeRefundKeyFor } from './refund-gateway-calls.js';
import { noSuchPayment, planRefund, type CheckedRefundInput } from './refund-input.js';
import { reservedAmount } from './refund-ledger.js';
import { encodeRefundResult } from './refund-result-codec.js';

/*
 * The first transaction of a refund command (a create, an approval): its checks under the row locks,
 * the refund's row, the command's one audit row, and the key advanced — all committed together, or
 * nothing (a refusal thrown here rolls the key back too, so it is not stored).
 */

export function noSuchRefund(id: string): NotFoundError {
  return new NotFoundError(`No such refund: ${id.slice(0, 64)}.`, { param: 'id' });
}

/** The four-eyes refusal thrown inside an approval's transaction; audited after its rollback. */
export class SelfApprovalError extends ForbiddenError {}

/** True when a refund of `amount` waits for a second admin. */
export function needsApproval(approvalThreshold: number | null, amount: number): boolean {
  return approvalThreshold !== null && amount > approvalThreshold;
}

/** The first phase of a create, under the payment's row lock: plan, refund, audit row, key. */
export async function recordRefundRequest(
  tx: Repositories,
  approvalThreshold: number | null,
  checked: CheckedRefundInput,
  key: IdempotencyKey,
  refundId: RefundId,
  actor: Actor,
  request: IdempotentRequest,
): Promise<IdempotencyKey> {
  // FOR UPDATE: concurrent refunds of one payment queue here, so each plans against the refunds
  // committed before it and their sum never passes what was captured.
  const payment = await tx.payments.lockById(checked.paymentId);
  if (payment === null || payment.accountId !== checked.accountId) {
    throw noSuchPayment(checked.paymentId);
  }
  const refunds = await tx.refunds.listByPayment(payment.accountId, payment.id);
  const plan = planRefund(payment, refunds, checked.amount);
  const status = needsApproval(approvalThreshold, plan.amount) ? 'requires_approval' : 'pending';
  const cause: Cause = { requestId: request.requestId };
  const refund = await tx.refunds.create(
    {
      id: refundId,
      accountId: payment.accountId,
      paymentId: payment.id,
      amount: plan.amount,
      currency: payment.currency,
      status,
      origin: 'pay',
      reason: checked.reason,
      stripeIdempotencyKey: stripeRefundKeyFor(refundId),
      requestedBy: actor.id,
    },
    cause,
  );
  await tx.audit.append({
    accountId: payment.accountId,
    actorType: actor.type,
    actorId: actor.id,
    action: 'refund.requested',
    targetType: 'refund',
    targetId: refund.id,
    amount: refund.amount,
    currency: refund.currency,
    requestId: request.requestId,
    details: {
      paymentId: payment.id,
      reason: checked.reason,
      status,
      paymentAmount: payment.amount,
      amountRefundedBefore: payment.amountRefunded,
      reservedBefore: plan.reserved,
      reservedAfter: plan.reserved + plan.amount,
    },
  });
  if (status === 'requires_approval') {
    return tx.idempotencyKeys.update(key.id, {
      resourceId: refund.id,
      recoveryPoint: FINISHED_RECOVERY_POINT,
      lockedAt: null,
      responseStatus: REFUND_RESPONSE_STATUS,
      responseBody: encodeRefundResult({ refund, payment }),
    });
  }
  return tx.idempotencyKeys.update(key.id, { resourceId: refund.id, recoveryPoint: 'refund_created' });
}

/** The first phase of an approval: the refund `requires_approval → pending`, its audit row, the key. */
export async function recordRefundApproval(
  tx: Repositories,
  refund: Refund,
  key: IdempotencyKey,
  actor: Actor,
  request: IdempotentRequest,
): Promise<IdempotencyKey> {
  // The payment first, then the refund: the order every refund writer locks them in.
  const payment = await tx.payments.lockById(refund.paymentId);
  const current = await tx.refunds.lockById(refund.id);
  if (payment === null || current === null) {
    throw noSuchRefund(refund.id);
  }
  if (current.status !== 'requires_approval') {
    throw new InvalidStateError(`Refund ${current.id} is ${current.status}: it does not wait for approval.`, {
      context: { refundId: current.id, status: current.status },
    });
  }
  if (current.requestedBy === actor.id) {
    throw new SelfApprovalError(
      `Refund ${current.id} was asked for by this admin: a second, different admin must approve it.`,
      { context: { refundId: current.id } },
    );
  }
  const cause: Cause = { requestId: request.requestId };
  const approved = await tx.refunds.transition(
    current.id,
    { from: 'requires_approval', to: 'pending', patch: { approvedBy: actor.id } },
    cause,
  );
  if (approved === null) {
    throw new InternalError(`Refund ${current.id} changed under its row lock.`);
  }
  const reserved = reservedAmount(await tx.refunds.listByPayment(payment.accountId, payment.id));
  await tx.audit.append({
    accountId: payment.accountId,
    actorType: actor.type,
    actorId: actor.id,
    action: 'refund.approved',
    targetType: 'refund',
    targetId: current.id,
    amount: current.amount,
    currency: current.currency,
    requestId: request.requestId,
    details: {
      paymentId: payment.id,
      reason: current.reason,
      requestedBy: current.requestedBy,
      status: approved.status,
      paymentAmount: payment.amount,
      amountRefundedBefore: payment.amountRefunded,
      // The approved amount was reserved when it was asked for: approval does not change the sum.
      reservedBefore: reserved,
      reservedAfter: reserved,
    },
  });
  return tx.idempotencyKeys.update(key.id, { resourceId: current.id, recoveryPoint: 'refund_approved' });
}
