import type { JsonObject } from '../errors.js';
import type { CustomerObject, DeletedCustomer } from '../objects/customer.js';
import type { Account, CustomerRecord } from '../store/account.js';

/** A customer as the API shows it: the deleted stub once deleted (Stripe still answers 200 to a retrieve). */
export function customerView(record: CustomerRecord): CustomerObject | DeletedCustomer {
  return record.deleted ? { id: record.object.id, object: 'customer', deleted: true } : record.object;
}

/** A charge's refunds as a list (the `refunds` expansion), newest first. */
export function refundListFor(
  account: Account,
  chargeId: string,
): { object: 'list'; data: JsonObject[]; has_more: false; url: string } {
  const data: JsonObject[] = [];
  for (const refund of account.refunds.values()) {
    if (refund.charge === chargeId) {
      data.unshift(refund as unknown as JsonObject);
    }
  }
  return { object: 'list', data, has_more: false, url: `/v1/charges/${chargeId}/refunds` };
}
