import type {
  Cause,
  Clock,
  Customer,
  IdempotencyKey,
  Page,
  PageRequest,
  Payment,
  PaymentEvent,
  PaymentMethod,
  Subscription,
  SubscriptionEvent,
} from '../../src/index.js';

/*
 * The tables behind the in-memory customers, payment methods, payments, subscriptions and idempotency
 * keys (memory-payment-repos.ts). Rows are replaced, never mutated, so a transaction's snapshot of the
 * arrays is enough to roll it back.
 */
export interface PaymentTables {
  customers: Customer[];
  paymentMethods: PaymentMethod[];
  payments: Payment[];
  paymentEvents: PaymentEvent[];
  subscriptions: Subscription[];
  subscriptionEvents: SubscriptionEvent[];
  idempotencyKeys: IdempotencyKey[];
}

/** Empty payment tables. */
export function emptyPaymentTables(): PaymentTables {
  return {
    customers: [],
    paymentMethods: [],
    payments: [],
    paymentEvents: [],
    subscriptions: [],
    subscriptionEvents: [],
    idempotencyKeys: [],
  };
}

/** A copy of the arrays, for a transaction to restore when it rolls back. */
export function snapshotPaymentTables(tables: PaymentTables): PaymentTables {
  return {
    customers: [...tables.customers],
    paymentMethods: [...tables.paymentMethods],
    payments: [...tables.payments],
    paymentEvents: [...tables.paymentEvents],
    subscriptions: [...tables.subscriptions],
    subscriptionEvents: [...tables.subscriptionEvents],
    idempotencyKeys: [...tables.idempotencyKeys],
  };
}

/** What the database's CHECK on every ledger table insists on: a change has a cause. */
export function checkCause(cause: Cause): Cause {
  if (Object.values(cause).every((value) => value === undefined)) {
    throw new Error('ledger rows need a cause (the database CHECK would refuse this row)');
  }
  return { ...cause };
}

/** Replaces the row with `id` (rows are immutable values) and returns the new one. */
export function replaceRow<T extends { id: string }>(rows: T[], next: T): T {
  const index = rows.findIndex((row) => row.id === next.id);
  if (index === -1) {
    throw new Error(`no row ${next.id} to replace`);
  }
  rows[index] = next;
  return next;
}

/** A page of `rows`, newest (largest id) first, after `startingAfter`. */
export function pageOf<T extends { id: string }>(rows: readonly T[], request: PageRequest): Page<T> {
  const sorted = [...rows]
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .filter((row) => request.startingAfter === undefined || row.id < request.startingAfter);
  return { data: sorted.slice(0, request.limit), hasMore: sorted.length > request.limit };
}

/** Rows sorted by id ascending: ids sort by creation time. */
export function byIdAscending<T extends { id: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The in-memory equivalent of a unique violation (SQLSTATE 23505). */
export function uniqueViolation(constraint: string): Error {
  return Object.assign(new Error(`duplicate key value violates unique constraint "${constraint}"`), {
    code: '23505',
    constraint,
  });
}

/** The time the store stamps rows with. */
export type Now = Clock['now'];
