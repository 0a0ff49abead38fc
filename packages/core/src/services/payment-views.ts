import type { Customer, Payment, PaymentMethod } from '../domain/entities.js';
import { InternalError } from '../errors.js';
import type { Repositories } from '../ports/repositories.js';
import { viewOf } from './payment-outcome.js';
import type { PaymentView } from './payment-results.js';

/**
 * The views of `payments`: each with its user's id and its card. Customers and cards are read once
 * each, however many payments share them (a page of one user's payments costs two lookups, not 2n).
 */
export async function viewsOf(repos: Repositories, payments: readonly Payment[]): Promise<PaymentView[]> {
  const customers = new Map<string, Promise<Customer | null>>();
  const cards = new Map<string, Promise<PaymentMethod | null>>();
  for (const payment of payments) {
    if (!customers.has(payment.customerId)) {
      customers.set(payment.customerId, repos.customers.findById(payment.accountId, payment.customerId));
    }
    if (payment.paymentMethodId !== null && !cards.has(payment.paymentMethodId)) {
      cards.set(
        payment.paymentMethodId,
        repos.paymentMethods.findById(payment.accountId, payment.paymentMethodId),
      );
    }
  }
  return Promise.all(
    payments.map(async (payment) => {
      // Both awaited together: awaiting the card only after the customer would leave its rejection
      // unhandled when both reads fail (a lost database connection), which ends the process.
      const [customer, card] = await Promise.all([
        customers.get(payment.customerId),
        payment.paymentMethodId === null ? null : cards.get(payment.paymentMethodId),
      ]);
      if (customer === null || customer === undefined) {
        throw new InternalError(`Payment ${payment.id} names a customer that does not exist.`);
      }
      return viewOf(payment, customer.userId, card ?? null);
    }),
  );
}

/** The view of one payment. */
export async function viewOfPayment(repos: Repositories, payment: Payment): Promise<PaymentView> {
  const [view] = await viewsOf(repos, [payment]);
  if (view === undefined) {
    throw new InternalError(`Payment ${payment.id} has no view.`);
  }
  return view;
}
