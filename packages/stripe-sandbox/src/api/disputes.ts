import { InvalidRequestError } from '../errors.js';
import { newDispute, type DisputeObject } from '../objects/ledger-objects.js';
import type { ExecContext } from './context.js';

/**
 * Opens a dispute on a succeeded charge (SANDBOX.md §4.6): the charge becomes `disputed`, refunds are
 * refused (`charge_disputed`), and `charge.dispute.created` carries the Dispute.
 */
export function openDispute(ctx: ExecContext, chargeId: string, reason = 'fraudulent'): DisputeObject {
  const record = ctx.account.charges.get(chargeId);
  if (record === undefined || record.object.status !== 'succeeded') {
    throw new InvalidRequestError(`Charge ${chargeId} cannot be disputed: it did not succeed.`);
  }
  if (record.dispute !== null) {
    throw new InvalidRequestError(`Charge ${chargeId} is already disputed.`);
  }
  const dispute = newDispute(ctx.now, record.object, reason);
  ctx.account.disputes.insert(dispute.id, dispute);
  ctx.created('dispute', dispute.id);
  ctx.account.charges.replace(chargeId, {
    object: { ...record.object, disputed: true },
    dispute: dispute.id,
  });
  ctx.emit('charge.dispute.created', dispute);
  return dispute;
}

/** 4000000000000259: "the dispute is created after the charge is returned" — a moment later on the clock. */
export function scheduleDispute(ctx: ExecContext, chargeId: string): void {
  ctx.core.later(ctx.account, ctx.core.settings.disputeDelaySeconds, (later) => {
    const record = later.account.charges.get(chargeId);
    if (record !== undefined && record.dispute === null && record.object.status === 'succeeded') {
      openDispute(later, chargeId);
    }
  });
}
