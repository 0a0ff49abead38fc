import type {
  Account,
  ApiKey,
  AuditEntry,
  Page,
  PageRequest,
  Plan,
  Repositories,
  Store,
} from '../../src/index.js';
import { newId, systemClock, type Clock } from '../../src/index.js';
import { memoryCustomers, memoryIdempotencyKeys, memoryPaymentMethods } from './memory-customer-repos.js';
import { memoryPayments, memorySubscriptions } from './memory-ledger-repos.js';
import { emptyPaymentTables, snapshotPaymentTables, type PaymentTables } from './memory-payment-tables.js';
import {
  emptyInboxTables,
  memoryDisputes,
  memoryRefunds,
  memoryWebhookEvents,
  snapshotInboxTables,
  type InboxTables,
} from './memory-inbox-repos.js';

/**
 * An in-memory twin of the Store (STYLE.md R2) for core's unit tests, covering every repository (the
 * refunds, webhook events and disputes live in memory-inbox-repos.ts). `transaction` rolls every table back
 * when its callback throws, as the database does.
 */
export interface MemoryTables extends PaymentTables, InboxTables {
  accounts: Account[];
  apiKeys: ApiKey[];
  plans: Plan[];
  audit: AuditEntry[];
  /** Rate-limit windows, replaced (never mutated) on every hit so a transaction's snapshot holds. */
  rateLimitBuckets: { bucket: string; windowStart: Date; hits: number }[];
}

/** A store over `tables`; `lookups` counts `findActiveByHash` calls, so tests can see what was queried. */
export interface MemoryStore {
  readonly store: Store;
  readonly tables: MemoryTables;
  readonly lookups: { findActiveByHash: number };
}

function page<T extends { id: string }>(rows: readonly T[], request: PageRequest): Page<T> {
  const sorted = [...rows]
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .filter((row) => request.startingAfter === undefined || row.id < request.startingAfter);
  return { data: sorted.slice(0, request.limit), hasMore: sorted.length > request.limit };
}

/** A fresh, empty in-memory store. */
export function createMemoryStore(options: { readonly clock?: Clock } = {}): MemoryStore {
  // The payment tables stamp rows with this clock, so tests can move time past locks and key expiry.
  const now = () => (options.clock ?? systemClock).now();
  const tables: MemoryTables = {
    ...emptyPaymentTables(),
    ...emptyInboxTables(),
    accounts: [],
    apiKeys: [],
    plans: [],
    audit: [],
    rateLimitBuckets: [],
  };
  const lookups = { findActiveByHash: 0 };

  const repos: Repositories = {
    accounts: {
      create: ({ name }) => {
        const account: Account = { id: newId('account'), name, createdAt: new Date() };
        tables.accounts.push(account);
        return Promise.resolve(account);
      },
      findById: (id) => Promise.resolve(tables.accounts.find((a) => a.id === id) ?? null),
      list: (request) => Promise.resolve(page(tables.accounts, request)),
    },
    apiKeys: {
      create: (input) => {
        const key: ApiKey = { id: newId('apiKey'), ...input, createdAt: new Date(), revokedAt: null };
        tables.apiKeys.push(key);
        return Promise.resolve(key);
      },
      findActiveByHash: (keyHash) => {
        lookups.findActiveByHash += 1;
        return Promise.resolve(
          tables.apiKeys.find((k) => k.keyHash === keyHash && k.revokedAt === null) ?? null,
        );
      },
      listByAccount: (accountId) =>
        Promise.resolve([
          ...page(
            tables.apiKeys.filter((k) => k.accountId === accountId),
            { limit: 1e6 },
          ).data,
        ]),
      revoke: (accountId, id, at) => {
        const index = tables.apiKeys.findIndex((k) => k.accountId === accountId && k.id === id);
        const key = tables.apiKeys[index];
        if (key === undefined) {
          return Promise.resolve(null);
        }
        const revoked: ApiKey = { ...key, revokedAt: key.revokedAt ?? at };
        tables.apiKeys[index] = revoked;
        return Promise.resolve(revoked);
      },
    },
    plans: {
      create: (input) => {
        const plan: Plan = { id: newId('plan'), ...input, active: true, createdAt: new Date() };
        tables.plans.push(plan);
        return Promise.resolve(plan);
      },
      findById: (accountId, id) =>
        Promise.resolve(tables.plans.find((p) => p.accountId === accountId && p.id === id) ?? null),
      list: (accountId, request) =>
        Promise.resolve(
          page(
            tables.plans.filter((p) => p.accountId === accountId),
            request,
          ),
        ),
    },
    audit: {
      append: (input) => {
        const entry: AuditEntry = {
          id: newId('auditEntry'),
          accountId: input.accountId,
          actorType: input.actorType,
          actorId: input.actorId,
          action: input.action,
          targetType: input.targetType ?? null,
          targetId: input.targetId ?? null,
          amount: input.amount ?? null,
          currency: input.currency ?? null,
          details: input.details ?? {},
          requestId: input.requestId ?? null,
          createdAt: new Date(),
        };
        tables.audit.push(entry);
        return Promise.resolve(entry);
      },
      list: (accountId, request) =>
        Promise.resolve(
          page(
            tables.audit.filter((e) => e.accountId === accountId),
            request,
          ),
        ),
    },
    customers: memoryCustomers(tables, now),
    paymentMethods: memoryPaymentMethods(tables, now),
    payments: memoryPayments(tables, now),
    subscriptions: memorySubscriptions(tables, now),
    refunds: memoryRefunds(tables, now),
    webhookEvents: memoryWebhookEvents(tables),
    idempotencyKeys: memoryIdempotencyKeys(tables),
    rateLimits: {
      hit: (bucket, windowStart, previousWindowStart) => {
        const at = (start: Date) =>
          tables.rateLimitBuckets.findIndex(
            (w) => w.bucket === bucket && w.windowStart.getTime() === start.getTime(),
          );
        const index = at(windowStart);
        const current = (tables.rateLimitBuckets[index]?.hits ?? 0) + 1;
        const row = { bucket, windowStart, hits: current };
        if (index === -1) {
          tables.rateLimitBuckets.push(row);
        } else {
          tables.rateLimitBuckets[index] = row;
        }
        const previous = tables.rateLimitBuckets[at(previousWindowStart)]?.hits ?? 0;
        return Promise.resolve({ current, previous });
      },
      read: (bucket, windowStart, previousWindowStart) => {
        const hits = (start: Date) =>
          tables.rateLimitBuckets.find(
            (w) => w.bucket === bucket && w.windowStart.getTime() === start.getTime(),
          )?.hits ?? 0;
        return Promise.resolve({ current: hits(windowStart), previous: hits(previousWindowStart) });
      },
      deleteWindowsBefore: (cutoff, bucketPrefix) => {
        const before = tables.rateLimitBuckets.length;
        tables.rateLimitBuckets = tables.rateLimitBuckets.filter(
          (w) => w.windowStart >= cutoff || !w.bucket.startsWith(bucketPrefix),
        );
        return Promise.resolve(before - tables.rateLimitBuckets.length);
      },
    },
    disputes: memoryDisputes(tables, now),
  };

  const store: Store = {
    repos,
    async transaction(fn) {
      const snapshot: MemoryTables = {
        ...snapshotPaymentTables(tables),
        ...snapshotInboxTables(tables),
        accounts: [...tables.accounts],
        apiKeys: [...tables.apiKeys],
        plans: [...tables.plans],
        audit: [...tables.audit],
        rateLimitBuckets: [...tables.rateLimitBuckets],
      };
      try {
        return await fn(repos);
      } catch (error) {
        Object.assign(tables, snapshot);
        throw error;
      }
    },
  };
  return { store, tables, lookups };
}
