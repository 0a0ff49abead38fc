import { lt, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { InternalError, type AccountId, type Cause, type Page, type PageRequest } from '@pay/core';
import type { CauseColumns } from '../rows.js';

/** The cause of a change as ledger columns. The table's CHECK insists on at least one. */
export function causeColumns(cause: Cause): CauseColumns {
  return {
    causeRequestId: cause.requestId ?? null,
    causeStripeEventId: cause.stripeEventId ?? null,
    causeRefundId: cause.refundId ?? null,
    causePaymentId: cause.paymentId ?? null,
    causeJob: cause.job ?? null,
  };
}

/** One state change as the columns every ledger table shares (payment, subscription, refund events). */
export interface LedgerEntry<S extends string> {
  readonly accountId: AccountId;
  /** Null for the row that records the object's creation. */
  readonly from: S | null;
  readonly to: S;
  /** Minor units the change moved; 0 when omitted. */
  readonly amount?: number | undefined;
  readonly cause: Cause;
  readonly at: Date;
}

/** The shared columns of a ledger row; the caller adds its id and the object it belongs to. */
export function ledgerColumns<S extends string>(
  entry: LedgerEntry<S>,
): CauseColumns & {
  accountId: AccountId;
  fromStatus: S | null;
  toStatus: S;
  amount: number;
  createdAt: Date;
} {
  return {
    accountId: entry.accountId,
    fromStatus: entry.from,
    toStatus: entry.to,
    amount: entry.amount ?? 0,
    ...causeColumns(entry.cause),
    createdAt: entry.at,
  };
}

/** The ledger columns back as core's `Cause`, with only the fields that are set. */
export function toCause(row: CauseColumns): Cause {
  const cause: { -readonly [K in keyof Cause]: Cause[K] } = {};
  if (row.causeRequestId !== null) {
    cause.requestId = row.causeRequestId;
  }
  if (row.causeStripeEventId !== null) {
    cause.stripeEventId = row.causeStripeEventId;
  }
  if (row.causeRefundId !== null) {
    cause.refundId = row.causeRefundId;
  }
  if (row.causePaymentId !== null) {
    cause.paymentId = row.causePaymentId;
  }
  if (row.causeJob !== null) {
    cause.job = row.causeJob;
  }
  return cause;
}

/** The keyset condition of a page: ids sort by creation time, so `id < cursor` is "older than". */
export function olderThan(id: PgColumn, page: PageRequest): SQL | undefined {
  return page.startingAfter === undefined ? undefined : lt(id, page.startingAfter);
}

/** How many rows a page query fetches: one more than the page, to learn whether another follows. */
export function pageFetchSize(page: PageRequest): number {
  return page.limit + 1;
}

/** Turns `limit + 1` rows, newest first, into a page. */
export function toPage<R, T>(rows: readonly R[], page: PageRequest, map: (row: R) => T): Page<T> {
  return { data: rows.slice(0, page.limit).map(map), hasMore: rows.length > page.limit };
}

/** The row of a statement that must return exactly one (an INSERT … RETURNING, say). */
export function single<R>(rows: readonly R[], what: string): R {
  const row = rows[0];
  if (row === undefined) {
    throw new InternalError(`Expected ${what} to return a row, and it returned none.`);
  }
  return row;
}

/** Maps the first row if there is one: lookups by id return null for "no such row". */
export function firstOrNull<R, T>(rows: readonly R[], map: (row: R) => T): T | null {
  const row = rows[0];
  return row === undefined ? null : map(row);
}
