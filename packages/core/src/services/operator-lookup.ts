import { NotFoundError } from '../errors.js';
import { isId, type AccountId } from '../ids.js';
import type { Store } from '../ports/store.js';

/** What {@link OperatorLookup} is built from. */
export interface OperatorLookupDeps {
  /** Read across accounts, which only operator tools may do. */
  readonly store: Store;
}

/**
 * The account an object belongs to, from its id alone. An operator at the CLI holds a payment or refund
 * id (from a support ticket, a log line) but no API key, and every service acts within one account;
 * this names that account so the command can call the service as the account would. Never for the HTTP
 * API: a caller there is bound to its key's account (DESIGN.md §7).
 */
export class OperatorLookup {
  constructor(private readonly deps: OperatorLookupDeps) {}

  /** The account of payment `paymentId`; NotFoundError for a malformed id or one no account holds. */
  async accountOfPayment(paymentId: string): Promise<AccountId> {
    const payment = isId('payment', paymentId)
      ? await this.deps.store.repos.payments.findByIdAcrossAccounts(paymentId)
      : null;
    if (payment === null) {
      throw new NotFoundError(`No such payment: ${paymentId.slice(0, 64)}.`, { param: 'payment_id' });
    }
    return payment.accountId;
  }

  /** The account of refund `refundId`; NotFoundError for a malformed id or one no account holds. */
  async accountOfRefund(refundId: string): Promise<AccountId> {
    const refund = isId('refund', refundId)
      ? await this.deps.store.repos.refunds.findByIdAcrossAccounts(refundId)
      : null;
    if (refund === null) {
      throw new NotFoundError(`No such refund: ${refundId.slice(0, 64)}.`, { param: 'refund_id' });
    }
    return refund.accountId;
  }
}
