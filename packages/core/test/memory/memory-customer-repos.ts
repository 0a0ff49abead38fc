import {
  newId,
  type CustomerRepository,
  type IdempotencyKey,
  type IdempotencyKeyRepository,
  type PaymentMethodRepository,
} from '../../src/index.js';
import {
  byIdAscending,
  replaceRow,
  uniqueViolation,
  type Now,
  type PaymentTables,
} from './memory-payment-tables.js';

/** In-memory customers, with the (account, user) and Stripe-id uniqueness the database enforces. */
export function memoryCustomers(tables: PaymentTables, now: Now): CustomerRepository {
  const byUser = (accountId: string, userId: string) =>
    tables.customers.find((c) => c.accountId === accountId && c.userId === userId);
  return {
    create: (input) => {
      if (byUser(input.accountId, input.userId) !== undefined) {
        return Promise.reject(uniqueViolation('customers_account_id_user_id_unique'));
      }
      const customer = {
        id: newId('customer', now()),
        accountId: input.accountId,
        userId: input.userId,
        email: input.email ?? null,
        stripeCustomerId: input.stripeCustomerId ?? null,
        createdAt: now(),
      };
      tables.customers.push(customer);
      return Promise.resolve(customer);
    },
    findById: (accountId, id) =>
      Promise.resolve(tables.customers.find((c) => c.accountId === accountId && c.id === id) ?? null),
    findByUserId: (accountId, userId) => Promise.resolve(byUser(accountId, userId) ?? null),
    findByStripeId: (stripeCustomerId) =>
      Promise.resolve(tables.customers.find((c) => c.stripeCustomerId === stripeCustomerId) ?? null),
    setStripeCustomerId: (id, stripeCustomerId) => {
      const customer = tables.customers.find((c) => c.id === id);
      if (customer === undefined) {
        return Promise.resolve(null);
      }
      if (customer.stripeCustomerId !== null && customer.stripeCustomerId !== stripeCustomerId) {
        return Promise.resolve(null);
      }
      if (tables.customers.some((c) => c.id !== id && c.stripeCustomerId === stripeCustomerId)) {
        return Promise.reject(uniqueViolation('customers_stripe_customer_id_unique'));
      }
      return Promise.resolve(replaceRow(tables.customers, { ...customer, stripeCustomerId }));
    },
    findOrCreate: (input) => {
      const existing = byUser(input.accountId, input.userId);
      if (existing !== undefined) {
        return Promise.resolve(existing);
      }
      const customer = {
        id: newId('customer', now()),
        accountId: input.accountId,
        userId: input.userId,
        email: null,
        stripeCustomerId: null,
        createdAt: now(),
      };
      tables.customers.push(customer);
      return Promise.resolve(customer);
    },
  };
}

/** In-memory cards, upserted by their Stripe id as the database does. */
export function memoryPaymentMethods(tables: PaymentTables, now: Now): PaymentMethodRepository {
  return {
    upsertByStripeId: (input) => {
      const existing = tables.paymentMethods.find(
        (m) => m.stripePaymentMethodId === input.stripePaymentMethodId,
      );
      if (existing !== undefined) {
        return Promise.resolve(existing);
      }
      const method = { id: newId('paymentMethod', now()), ...input, createdAt: now() };
      tables.paymentMethods.push(method);
      return Promise.resolve(method);
    },
    findById: (accountId, id) =>
      Promise.resolve(tables.paymentMethods.find((m) => m.accountId === accountId && m.id === id) ?? null),
    findByStripeId: (stripePaymentMethodId) =>
      Promise.resolve(
        tables.paymentMethods.find((m) => m.stripePaymentMethodId === stripePaymentMethodId) ?? null,
      ),
    listByCustomer: (accountId, customerId) =>
      Promise.resolve(
        byIdAscending(
          tables.paymentMethods.filter((m) => m.accountId === accountId && m.customerId === customerId),
        ).reverse(),
      ),
  };
}

/** In-memory idempotency keys: one per (account, key), with the lock's compare-and-set. */
export function memoryIdempotencyKeys(tables: PaymentTables): IdempotencyKeyRepository {
  const byId = (id: string) => tables.idempotencyKeys.find((k) => k.id === id);
  return {
    insert: (input) => {
      const existing = tables.idempotencyKeys.find(
        (k) => k.accountId === input.accountId && k.key === input.key,
      );
      if (existing !== undefined) {
        return Promise.resolve({ key: existing, inserted: false });
      }
      const key: IdempotencyKey = {
        id: newId('idempotencyKey', input.now),
        accountId: input.accountId,
        key: input.key,
        requestMethod: input.requestMethod,
        requestPath: input.requestPath,
        paramsHash: input.paramsHash,
        requestParams: input.requestParams ?? null,
        lockedAt: input.now,
        recoveryPoint: 'started',
        responseStatus: null,
        responseBody: null,
        resourceId: null,
        createdAt: input.now,
        lastRunAt: input.now,
      };
      tables.idempotencyKeys.push(key);
      return Promise.resolve({ key, inserted: true });
    },
    find: (accountId, key) =>
      Promise.resolve(tables.idempotencyKeys.find((k) => k.accountId === accountId && k.key === key) ?? null),
    lock: (id, at, staleBefore) => {
      const key = byId(id);
      if (
        key === undefined ||
        key.responseStatus !== null ||
        (key.lockedAt !== null && key.lockedAt.getTime() >= staleBefore.getTime())
      ) {
        return Promise.resolve(null);
      }
      return Promise.resolve(replaceRow(tables.idempotencyKeys, { ...key, lockedAt: at, lastRunAt: at }));
    },
    update: (id, patch) => {
      const key = byId(id);
      if (key === undefined) {
        return Promise.reject(new Error(`Idempotency key ${id} does not exist.`));
      }
      const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
      return Promise.resolve(replaceRow(tables.idempotencyKeys, { ...key, ...defined }));
    },
    deleteCreatedBefore: (cutoff) => {
      const before = tables.idempotencyKeys.length;
      tables.idempotencyKeys = tables.idempotencyKeys.filter(
        (k) => k.createdAt.getTime() >= cutoff.getTime(),
      );
      return Promise.resolve(before - tables.idempotencyKeys.length);
    },
    listResumable: (query) =>
      Promise.resolve(
        byIdAscending(
          tables.idempotencyKeys.filter(
            (k) =>
              k.responseStatus === null &&
              k.createdAt.getTime() >= query.createdAfter.getTime() &&
              (k.lockedAt === null || k.lockedAt.getTime() < query.staleBefore.getTime()) &&
              (query.resourceIdPrefix === undefined ||
                (k.resourceId ?? '').startsWith(query.resourceIdPrefix)) &&
              (query.afterId === undefined || k.id > query.afterId),
          ),
        ).slice(0, query.limit),
      ),
  };
}
