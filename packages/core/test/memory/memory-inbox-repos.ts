import {
  WEBHOOK_EVENT_STATUSES,
  assertTransition,
  isNewerDisputeReport,
  newId,
  type Cause,
  type Dispute,
  type DisputeRepository,
  type Refund,
  type RefundEvent,
  type RefundRepository,
  type WebhookEvent,
  type WebhookEventRepository,
  type WebhookEventStatus,
} from '../../src/index.js';
import {
  byIdAscending,
  checkCause,
  pageOf,
  replaceRow,
  uniqueViolation,
  type Now,
} from './memory-payment-tables.js';

/*
 * In-memory refunds, webhook events and disputes: the tables the webhook worker writes. Rows are
 * replaced, never mutated, so the store's transaction can roll them back from a copy of the arrays.
 * The twin has no row locks: tests that run workers side by side serialise their transactions, as
 * PGlite's one connection does.
 */
export interface InboxTables {
  refunds: Refund[];
  refundEvents: RefundEvent[];
  webhookEvents: WebhookEvent[];
  disputes: Dispute[];
}

export function emptyInboxTables(): InboxTables {
  return { refunds: [], refundEvents: [], webhookEvents: [], disputes: [] };
}

export function snapshotInboxTables(tables: InboxTables): InboxTables {
  return {
    refunds: [...tables.refunds],
    refundEvents: [...tables.refundEvents],
    webhookEvents: [...tables.webhookEvents],
    disputes: [...tables.disputes],
  };
}

export function memoryRefunds(tables: InboxTables, now: Now): RefundRepository {
  const byId = (id: string) => tables.refunds.find((r) => r.id === id);
  const event = (refund: Refund, from: Refund['status'] | null, amount: number, cause: Cause) => {
    tables.refundEvents.push({
      id: newId('refundEvent', now()),
      refundId: refund.id,
      accountId: refund.accountId,
      fromStatus: from,
      toStatus: refund.status,
      amount,
      cause: checkCause(cause),
      createdAt: now(),
    });
  };
  return {
    create: (input, cause) => {
      checkCause(cause);
      if (
        input.stripeRefundId !== undefined &&
        input.stripeRefundId !== null &&
        tables.refunds.some((r) => r.stripeRefundId === input.stripeRefundId)
      ) {
        return Promise.reject(uniqueViolation('refunds_stripe_refund_id_unique'));
      }
      const at = now();
      const refund: Refund = {
        id: input.id ?? newId('refund', at),
        accountId: input.accountId,
        paymentId: input.paymentId,
        amount: input.amount,
        currency: input.currency,
        status: input.status,
        reason: input.reason ?? null,
        origin: input.origin,
        stripeRefundId: input.stripeRefundId ?? null,
        stripeIdempotencyKey: input.stripeIdempotencyKey ?? null,
        requestedBy: input.requestedBy ?? null,
        approvedBy: null,
        failureReason: null,
        createdAt: at,
        updatedAt: at,
      };
      tables.refunds.push(refund);
      event(refund, null, refund.status === 'succeeded' ? refund.amount : 0, cause);
      return Promise.resolve(refund);
    },
    findById: (accountId, id) =>
      Promise.resolve(tables.refunds.find((r) => r.accountId === accountId && r.id === id) ?? null),
    findByStripeId: (stripeRefundId) =>
      Promise.resolve(tables.refunds.find((r) => r.stripeRefundId === stripeRefundId) ?? null),
    transition: (id, change, cause) => {
      assertTransition('refund', change.from, change.to);
      checkCause(cause);
      const refund = byId(id);
      if (refund === undefined || refund.status !== change.from) {
        return Promise.resolve(null);
      }
      const patch = change.patch ?? {};
      const next = replaceRow(tables.refunds, {
        ...refund,
        ...(patch.stripeRefundId === undefined ? {} : { stripeRefundId: patch.stripeRefundId }),
        ...(patch.approvedBy === undefined ? {} : { approvedBy: patch.approvedBy }),
        ...(patch.failureReason === undefined ? {} : { failureReason: patch.failureReason }),
        status: change.to,
        updatedAt: now(),
      });
      event(next, change.from, change.amount ?? 0, cause);
      return Promise.resolve(next);
    },
    listByPayment: (accountId, paymentId) =>
      Promise.resolve(
        byIdAscending(
          tables.refunds.filter((r) => r.accountId === accountId && r.paymentId === paymentId),
        ).reverse(),
      ),
    listEvents: (refundId) => Promise.resolve(tables.refundEvents.filter((e) => e.refundId === refundId)),
    setStripeRefundId: (id, stripeRefundId) => {
      const refund = byId(id);
      if (
        refund === undefined ||
        (refund.stripeRefundId !== null && refund.stripeRefundId !== stripeRefundId)
      ) {
        return Promise.resolve(null);
      }
      if (tables.refunds.some((r) => r.id !== id && r.stripeRefundId === stripeRefundId)) {
        return Promise.reject(uniqueViolation('refunds_stripe_refund_id_unique'));
      }
      return Promise.resolve(replaceRow(tables.refunds, { ...refund, stripeRefundId, updatedAt: now() }));
    },
    findByIdAcrossAccounts: (id) => Promise.resolve(byId(id) ?? null),
    lockById: (id) => Promise.resolve(byId(id) ?? null),
    listInFlight: (query) =>
      Promise.resolve(
        byIdAscending(
          tables.refunds.filter(
            (r) =>
              r.origin === 'pay' &&
              r.status === 'pending' &&
              r.updatedAt.getTime() < query.updatedBefore.getTime() &&
              (query.afterId === undefined || r.id > query.afterId),
          ),
        ).slice(0, query.limit),
      ),
  };
}

const WAITING: readonly WebhookEventStatus[] = ['pending', 'failed'];

export function memoryWebhookEvents(tables: InboxTables): WebhookEventRepository {
  const byId = (id: string) => tables.webhookEvents.find((e) => e.id === id);
  const update = (id: string, patch: Partial<WebhookEvent>): WebhookEvent | null => {
    const event = byId(id);
    return event === undefined ? null : replaceRow(tables.webhookEvents, { ...event, ...patch });
  };
  return {
    insert: (input) => {
      const existing = tables.webhookEvents.find((e) => e.stripeEventId === input.stripeEventId);
      if (existing !== undefined) {
        return Promise.resolve({ event: existing, inserted: false });
      }
      const event: WebhookEvent = {
        id: newId('webhookEvent', input.receivedAt),
        stripeEventId: input.stripeEventId,
        type: input.type,
        apiVersion: input.apiVersion,
        livemode: input.livemode,
        objectId: input.objectId,
        payload: input.payload,
        signatureVerified: input.signatureVerified,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: input.receivedAt,
        lastError: null,
        stripeCreatedAt: input.stripeCreatedAt,
        receivedAt: input.receivedAt,
        processedAt: null,
      };
      tables.webhookEvents.push(event);
      return Promise.resolve({ event, inserted: true });
    },
    findByStripeId: (stripeEventId) =>
      Promise.resolve(tables.webhookEvents.find((e) => e.stripeEventId === stripeEventId) ?? null),
    claimDue: (at, limit) =>
      Promise.resolve(
        tables.webhookEvents
          .filter((e) => WAITING.includes(e.status) && e.nextAttemptAt.getTime() <= at.getTime())
          .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || (a.id < b.id ? -1 : 1))
          .slice(0, limit),
      ),
    ignoreDueUnhandled: (at, handledTypes, limit) => {
      const due = tables.webhookEvents
        .filter(
          (e) =>
            WAITING.includes(e.status) &&
            e.nextAttemptAt.getTime() <= at.getTime() &&
            !handledTypes.includes(e.type),
        )
        .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || (a.id < b.id ? -1 : 1))
        .slice(0, limit);
      for (const event of due) {
        update(event.id, { status: 'ignored', processedAt: at, attempts: event.attempts + 1 });
      }
      return Promise.resolve(
        due.map(({ id, stripeEventId, type, stripeCreatedAt }) => ({
          id,
          stripeEventId,
          type,
          stripeCreatedAt,
        })),
      );
    },
    markProcessed: (id, at, status) => {
      const event = byId(id);
      update(id, { status, processedAt: at, attempts: (event?.attempts ?? 0) + 1 });
      return Promise.resolve();
    },
    markFailed: (id, failure) => {
      const event = byId(id);
      update(id, {
        status: failure.dead ? 'dead' : 'failed',
        attempts: (event?.attempts ?? 0) + 1,
        nextAttemptAt: failure.nextAttemptAt,
        lastError: failure.error,
      });
      return Promise.resolve();
    },
    countByStatus: () => {
      const counts = Object.fromEntries(WEBHOOK_EVENT_STATUSES.map((s) => [s, 0])) as Record<
        WebhookEventStatus,
        number
      >;
      for (const event of tables.webhookEvents) {
        counts[event.status] += 1;
      }
      return Promise.resolve(counts);
    },
    claimById: (id) => {
      const event = byId(id);
      return Promise.resolve(event !== undefined && WAITING.includes(event.status) ? event : null);
    },
    defer: (id, until) => {
      update(id, { nextAttemptAt: until });
      return Promise.resolve();
    },
    listByStatus: (status, request) =>
      Promise.resolve(
        pageOf(
          tables.webhookEvents.filter((e) => e.status === status),
          request,
        ),
      ),
    oldestPending: () =>
      Promise.resolve(
        [...tables.webhookEvents]
          .filter((e) => e.status === 'pending')
          .sort(
            (a, b) => a.stripeCreatedAt.getTime() - b.stripeCreatedAt.getTime() || (a.id < b.id ? -1 : 1),
          )[0] ?? null,
      ),
    requeue: (id, at) =>
      Promise.resolve(update(id, { status: 'pending', nextAttemptAt: at, attempts: 0, processedAt: null })),
    requeueDead: (at) => {
      const dead = tables.webhookEvents.filter((e) => e.status === 'dead');
      for (const event of dead) {
        update(event.id, { status: 'pending', nextAttemptAt: at, attempts: 0, processedAt: null });
      }
      return Promise.resolve(dead.length);
    },
    newestStripeCreatedAt: () =>
      Promise.resolve(
        tables.webhookEvents.reduce<Date | null>(
          (newest, e) => (newest === null || e.stripeCreatedAt > newest ? e.stripeCreatedAt : newest),
          null,
        ),
      ),
  };
}

export function memoryDisputes(tables: InboxTables, now: Now): DisputeRepository {
  return {
    upsertByStripeId: (report) => {
      const stored = tables.disputes.find((d) => d.stripeDisputeId === report.stripeDisputeId);
      const at = now();
      if (stored === undefined) {
        const dispute: Dispute = {
          id: newId('dispute', at),
          accountId: report.accountId,
          paymentId: report.paymentId,
          stripeDisputeId: report.stripeDisputeId,
          stripeChargeId: report.stripeChargeId,
          amount: report.amount,
          currency: report.currency,
          reason: report.reason,
          status: report.status,
          stripeCreatedAt: report.stripeCreatedAt,
          stripeUpdatedAt: report.reportedAt,
          createdAt: at,
          updatedAt: at,
        };
        tables.disputes.push(dispute);
        return Promise.resolve({ dispute, previous: null, changed: true });
      }
      if (!isNewerDisputeReport(stored, report)) {
        return Promise.resolve({ dispute: stored, previous: stored, changed: false });
      }
      const dispute = replaceRow(tables.disputes, {
        ...stored,
        amount: report.amount,
        reason: report.reason,
        status: report.status,
        stripeUpdatedAt: report.reportedAt,
        updatedAt: at,
      });
      return Promise.resolve({ dispute, previous: stored, changed: true });
    },
    findByStripeId: (stripeDisputeId) =>
      Promise.resolve(tables.disputes.find((d) => d.stripeDisputeId === stripeDisputeId) ?? null),
    findById: (accountId, id) =>
      Promise.resolve(tables.disputes.find((d) => d.accountId === accountId && d.id === id) ?? null),
    listByPayment: (accountId, paymentId) =>
      Promise.resolve(
        byIdAscending(
          tables.disputes.filter((d) => d.accountId === accountId && d.paymentId === paymentId),
        ).reverse(),
      ),
  };
}
