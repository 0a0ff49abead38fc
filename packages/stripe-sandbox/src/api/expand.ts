import { InvalidRequestError, type JsonObject } from '../errors.js';
import type { Account } from '../store/account.js';
import { customerView, refundListFor } from './views.js';

/*
 * `expand[]` (SANDBOX.md §3.8): the expandable fields of each object type, as data. A target is another
 * object type (the field holds its id), `hash:<type>` (a plain hash with expandable fields inside, such as
 * a customer's `invoice_settings`), `null` (expandable at Stripe but always null in the sandbox), or
 * `refund_list` (a charge's `refunds`, which Stripe stopped returning by default in 2022-11-15).
 */
const EXPANDABLE: Readonly<Record<string, Readonly<Record<string, string | null>>>> = {
  payment_intent: {
    customer: 'customer',
    payment_method: 'payment_method',
    latest_charge: 'charge',
    review: null,
    application: null,
    on_behalf_of: null,
  },
  charge: {
    customer: 'customer',
    payment_intent: 'payment_intent',
    balance_transaction: 'balance_transaction',
    refunds: 'refund_list',
    review: null,
    application: null,
    application_fee: null,
    on_behalf_of: null,
    failure_balance_transaction: null,
    source_transfer: null,
  },
  refund: {
    charge: 'charge',
    payment_intent: 'payment_intent',
    balance_transaction: 'balance_transaction',
    failure_balance_transaction: 'balance_transaction',
  },
  payment_method: { customer: 'customer' },
  customer: { default_source: null, test_clock: null, invoice_settings: 'hash:customer_invoice_settings' },
  customer_invoice_settings: { default_payment_method: 'payment_method' },
  dispute: { charge: 'charge', payment_intent: 'payment_intent' },
  refund_list: { data: 'refund' },
  balance_transaction: {},
  event: {},
  webhook_endpoint: {},
};

/** "Expansions have a maximum depth of four levels." */
const MAX_DEPTH = 4;

function cannotExpand(path: string): InvalidRequestError {
  return new InvalidRequestError(`This property cannot be expanded (${path}).`, { param: 'expand' });
}

/**
 * Checks `expand[]` against the route's result type before execution, so a bad path is a validation
 * error (never stored). List results take paths under `data.`.
 */
export function validateExpand(resultType: string, paths: readonly string[]): void {
  for (const path of paths) {
    let segments = path.split('.');
    let type = resultType;
    if (resultType.startsWith('list:')) {
      if (segments[0] !== 'data' || segments.length < 2) {
        throw cannotExpand(path);
      }
      segments = segments.slice(1);
      type = resultType.slice('list:'.length);
    }
    if (segments.length > MAX_DEPTH) {
      throw new InvalidRequestError(
        `You cannot expand more than ${MAX_DEPTH} levels of a property (${path}).`,
        {
          param: 'expand',
        },
      );
    }
    for (const segment of segments) {
      const fields = EXPANDABLE[type];
      if (fields === undefined || !Object.hasOwn(fields, segment)) {
        throw cannotExpand(path);
      }
      const target = fields[segment] ?? null;
      type = target === null ? 'null' : target.startsWith('hash:') ? target.slice('hash:'.length) : target;
    }
  }
}

/** The object behind an id, rendered as the API shows it. */
function resolve(account: Account, type: string, id: string): JsonObject | undefined {
  switch (type) {
    case 'customer': {
      const record = account.customers.get(id);
      return record === undefined ? undefined : (customerView(record) as unknown as JsonObject);
    }
    case 'payment_method':
      return account.paymentMethods.get(id)?.object as JsonObject | undefined;
    case 'payment_intent':
      return account.paymentIntents.get(id)?.object as JsonObject | undefined;
    case 'charge':
      return account.charges.get(id)?.object as JsonObject | undefined;
    case 'refund':
      return account.refunds.get(id) as JsonObject | undefined;
    case 'balance_transaction':
      return account.balanceTransactions.get(id) as JsonObject | undefined;
    default:
      return undefined;
  }
}

function expandInto(account: Account, object: JsonObject, type: string, paths: string[][]): JsonObject {
  const byField = new Map<string, string[][]>();
  for (const [head, ...rest] of paths) {
    if (head === undefined) {
      continue;
    }
    const list = byField.get(head) ?? [];
    if (rest.length > 0) {
      list.push(rest);
    }
    byField.set(head, list);
  }
  // Copy, never mutate: `object` is a stored record shared with events and idempotent responses.
  const copy: JsonObject = { ...object };
  for (const [field, rest] of byField) {
    const target = EXPANDABLE[type]?.[field] ?? null;
    const value = copy[field];
    if (target === null) {
      continue;
    }
    if (target === 'refund_list') {
      const list = refundListFor(account, String(copy.id));
      copy[field] = {
        ...list,
        data: list.data.map((r) => (rest.length > 0 ? expandInto(account, r, 'refund', rest) : r)),
      };
    } else if (target.startsWith('hash:')) {
      if (value !== null && typeof value === 'object') {
        copy[field] = expandInto(account, value as JsonObject, target.slice('hash:'.length), rest);
      }
    } else if (typeof value === 'string') {
      const resolved = resolve(account, target, value);
      if (resolved !== undefined) {
        copy[field] = rest.length > 0 ? expandInto(account, resolved, target, rest) : resolved;
      }
    } else if (value !== null && typeof value === 'object' && rest.length > 0) {
      copy[field] = expandInto(account, value as JsonObject, target, rest);
    }
  }
  return copy;
}

/** Applies validated `expand[]` paths to a result. */
export function applyExpand(
  account: Account,
  body: JsonObject,
  resultType: string,
  paths: readonly string[],
): JsonObject {
  if (paths.length === 0) {
    return body;
  }
  const split = paths.map((p) => p.split('.'));
  if (resultType.startsWith('list:')) {
    const type = resultType.slice('list:'.length);
    const inner = split.map((s) => s.slice(1));
    const data = (body.data as JsonObject[]).map((item) => expandInto(account, item, type, inner));
    return { ...body, data };
  }
  return expandInto(account, body, resultType, split);
}
