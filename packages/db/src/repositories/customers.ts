import { and, desc, eq, isNull, or } from 'drizzle-orm';
import {
  InternalError,
  newId,
  type Customer,
  type CustomerRepository,
  type PaymentMethod,
  type PaymentMethodRepository,
} from '@pay/core';
import type { CustomerRow, PaymentMethodRow } from '../rows.js';
import type { Executor } from '../store.js';
import { customers, paymentMethods } from '../tables.js';
import { firstOrNull, single } from './shared.js';

const toCustomer = (row: CustomerRow): Customer => ({
  id: row.id,
  accountId: row.accountId,
  userId: row.userId,
  email: row.email,
  stripeCustomerId: row.stripeCustomerId,
  createdAt: row.createdAt,
});

const toPaymentMethod = (row: PaymentMethodRow): PaymentMethod => ({
  id: row.id,
  accountId: row.accountId,
  customerId: row.customerId,
  stripePaymentMethodId: row.stripePaymentMethodId,
  brand: row.brand,
  last4: row.last4,
  expMonth: row.expMonth,
  expYear: row.expYear,
  createdAt: row.createdAt,
});

export function createCustomerRepository(x: Executor): CustomerRepository {
  return {
    /** Throws a unique violation ({@link isUniqueViolation}) when the (account, user) pair exists. */
    async create(input) {
      const now = new Date();
      const rows = await x
        .db()
        .insert(customers)
        .values({
          id: newId('customer', now),
          accountId: input.accountId,
          userId: input.userId,
          email: input.email ?? null,
          stripeCustomerId: input.stripeCustomerId ?? null,
          createdAt: now,
        })
        .returning();
      return toCustomer(single(rows, 'INSERT customers'));
    },

    async findById(accountId, id) {
      const rows = await x
        .db()
        .select()
        .from(customers)
        .where(and(eq(customers.id, id), eq(customers.accountId, accountId)));
      return firstOrNull(rows, toCustomer);
    },

    async findByUserId(accountId, userId) {
      const rows = await x
        .db()
        .select()
        .from(customers)
        .where(and(eq(customers.accountId, accountId), eq(customers.userId, userId)));
      return firstOrNull(rows, toCustomer);
    },

    async findByStripeId(stripeCustomerId) {
      const rows = await x
        .db()
        .select()
        .from(customers)
        .where(eq(customers.stripeCustomerId, stripeCustomerId));
      return firstOrNull(rows, toCustomer);
    },

    async setStripeCustomerId(id, stripeCustomerId) {
      // Compare-and-set: two requests that each made a Stripe customer race here; the first one
      // recorded wins and the other gets null (and should use the recorded one). Setting the same id
      // again is a no-op that returns the row, so a retried request is not mistaken for the loser.
      const rows = await x
        .db()
        .update(customers)
        .set({ stripeCustomerId })
        .where(
          and(
            eq(customers.id, id),
            or(isNull(customers.stripeCustomerId), eq(customers.stripeCustomerId, stripeCustomerId)),
          ),
        )
        .returning();
      return firstOrNull(rows, toCustomer);
    },

    async findOrCreate(input) {
      const now = new Date();
      const db = x.db();
      // ON CONFLICT DO NOTHING, then read: two first payments of one user with different idempotency
      // keys race here. The loser's INSERT waits for the winner's commit, stores nothing, and the read
      // (a new snapshot under READ COMMITTED) finds the winner's row instead of failing on 23505.
      const inserted = await db
        .insert(customers)
        .values({
          id: newId('customer', now),
          accountId: input.accountId,
          userId: input.userId,
          email: null,
          stripeCustomerId: null,
          createdAt: now,
        })
        .onConflictDoNothing({ target: [customers.accountId, customers.userId] })
        .returning();
      if (inserted[0] !== undefined) {
        return toCustomer(inserted[0]);
      }
      const rows = await db
        .select()
        .from(customers)
        .where(and(eq(customers.accountId, input.accountId), eq(customers.userId, input.userId)));
      const existing = rows[0];
      if (existing === undefined) {
        throw new InternalError('A customer conflicted on its user id but cannot be read back.', {
          context: { accountId: input.accountId },
        });
      }
      return toCustomer(existing);
    },
  };
}

export function createPaymentMethodRepository(x: Executor): PaymentMethodRepository {
  return {
    async upsertByStripeId(input) {
      const now = new Date();
      const db = x.db();
      // ON CONFLICT DO NOTHING, then read: the card may arrive twice at once (the API and a webhook),
      // and the first stored row is the one both get.
      const inserted = await db
        .insert(paymentMethods)
        .values({
          id: newId('paymentMethod', now),
          accountId: input.accountId,
          customerId: input.customerId,
          stripePaymentMethodId: input.stripePaymentMethodId,
          brand: input.brand,
          last4: input.last4,
          expMonth: input.expMonth,
          expYear: input.expYear,
          createdAt: now,
        })
        .onConflictDoNothing({ target: paymentMethods.stripePaymentMethodId })
        .returning();
      if (inserted[0] !== undefined) {
        return toPaymentMethod(inserted[0]);
      }
      const rows = await db
        .select()
        .from(paymentMethods)
        .where(eq(paymentMethods.stripePaymentMethodId, input.stripePaymentMethodId));
      const existing = rows[0];
      if (existing === undefined) {
        throw new InternalError('A payment method conflicted on its Stripe id but cannot be read back.', {
          context: { stripePaymentMethodId: input.stripePaymentMethodId },
        });
      }
      return toPaymentMethod(existing);
    },

    async findById(accountId, id) {
      const rows = await x
        .db()
        .select()
        .from(paymentMethods)
        .where(and(eq(paymentMethods.id, id), eq(paymentMethods.accountId, accountId)));
      return firstOrNull(rows, toPaymentMethod);
    },

    async findByStripeId(stripePaymentMethodId) {
      const rows = await x
        .db()
        .select()
        .from(paymentMethods)
        .where(eq(paymentMethods.stripePaymentMethodId, stripePaymentMethodId));
      return firstOrNull(rows, toPaymentMethod);
    },

    async listByCustomer(accountId, customerId) {
      const rows = await x
        .db()
        .select()
        .from(paymentMethods)
        .where(and(eq(paymentMethods.accountId, accountId), eq(paymentMethods.customerId, customerId)))
        .orderBy(desc(paymentMethods.id));
      return rows.map(toPaymentMethod);
    },
  };
}
