import { AccountService, PlanService, systemClock, type Actor } from '@pay/core';
import { connectPostgres } from '@pay/db';
import { readPayState, readSandboxState } from '@pay/reliability';
import { accountIdOf } from './in-process-pay.js';
import { newIdempotencyKey, type Battery } from './battery.js';
import { describeAnswer, getJson, postJson, type Answer, type HttpAnswer } from './client.js';
import { int, intOrNull, text, textOrNull, withSql } from './pay-sql.js';
import type { ApiProcess } from './processes.js';

/*
 * What the refund battery (RELIABILITY.md G, C1 for refunds) needs around a battery's world: admin API
 * keys, paid payments to refund, the refund routes as a client calls them, the audit log as written, and
 * the sandbox's refunds of a payment.
 */

const OPERATOR: Actor = { type: 'cli_operator', id: 'battery' };

/** An API key the battery issued: its id (what audit rows name) and its secret. */
export interface IssuedKey {
  readonly id: string;
  readonly secret: string;
}

/** Issues `names.length` API keys of `role` in the battery's account. */
export async function issueApiKeys(
  battery: Battery,
  role: 'admin' | 'service',
  names: readonly string[],
): Promise<IssuedKey[]> {
  const db = connectPostgres(battery.database.url, { max: 1 });
  try {
    const accounts = new AccountService({ store: db.store, clock: systemClock });
    const keys: IssuedKey[] = [];
    for (const name of names) {
      const issued = await accounts.createApiKey({ accountId: accountIdOf(battery), name, role }, OPERATOR);
      keys.push({ id: issued.apiKey.id, secret: issued.secret });
    }
    return keys;
  } finally {
    await db.close();
  }
}

/** A monthly plan of `amount` minor units in the battery's account; its id. */
export async function createPlan(battery: Battery, amount: number): Promise<string> {
  const db = connectPostgres(battery.database.url, { max: 1 });
  try {
    const plan = await new PlanService({ store: db.store }).createPlan(
      { accountId: accountIdOf(battery), name: `Plan ${amount}`, amount, currency: 'usd', interval: 'month' },
      OPERATOR,
    );
    return plan.id;
  } finally {
    await db.close();
  }
}

/** A payment a new end user made through the API for `planId` (the battery's plan by default): its id. */
export async function paidPayment(
  battery: Battery,
  api: ApiProcess,
  planId = battery.planId,
): Promise<string> {
  const answer = await battery.post(
    api,
    newIdempotencyKey('refund-payment'),
    battery.body({ plan_id: planId }),
  );
  const id = answer.kind === 'http' && answer.status === 201 ? bodyOf(answer).id : undefined;
  if (typeof id !== 'string') {
    throw new Error(`the payment to refund was not made: ${describeAnswer(answer)}`);
  }
  return id;
}

/** The body `POST /api/v1/refunds` takes. */
export interface RefundBody {
  readonly payment_id: string;
  readonly amount?: number;
  readonly reason?: string;
}

/** `POST /api/v1/refunds` with `apiKey` and `Idempotency-Key: key`. */
export function postRefund(api: ApiProcess, apiKey: string, key: string, body: RefundBody): Promise<Answer> {
  return postJson(api.url, '/api/v1/refunds', apiKey, key, body);
}

/** `POST /api/v1/refunds/:id/approve` with `apiKey` and `Idempotency-Key: key`. */
export function approveRefund(
  api: ApiProcess,
  apiKey: string,
  key: string,
  refundId: string,
): Promise<Answer> {
  return postJson(api.url, `/api/v1/refunds/${refundId}/approve`, apiKey, key, {});
}

/** `GET /api/v1/refunds/:id`. */
export function getRefund(api: ApiProcess, apiKey: string, refundId: string): Promise<Answer> {
  return getJson(api.url, `/api/v1/refunds/${refundId}`, apiKey);
}

/** A JSON answer's body as an object. */
export function bodyOf(answer: HttpAnswer): Record<string, unknown> {
  const parsed: unknown = JSON.parse(answer.body);
  if (typeof parsed !== 'object' || parsed === null) {
    throw new Error(`not a JSON object: ${answer.body.slice(0, 200)}`);
  }
  return parsed as Record<string, unknown>;
}

/** A refund answer's id, status and amount (null when the answer is not a refund). */
export function refundOf(answer: Answer): { id: string; status: string; amount: number } | null {
  if (answer.kind !== 'http' || answer.status >= 300) {
    return null;
  }
  const { id, status, amount } = bodyOf(answer);
  return typeof id === 'string' && typeof status === 'string' && typeof amount === 'number'
    ? { id, status, amount }
    : null;
}

/** One row of `pay.audit_log`. */
export interface AuditRow {
  readonly id: string;
  readonly actorType: string;
  readonly actorId: string;
  readonly action: string;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly amount: number | null;
  readonly details: Record<string, unknown>;
  readonly requestId: string | null;
}

/** The audit rows of refund commands (`refund.*`), in the order they were written. */
export function readRefundAudit(databaseUrl: string): Promise<AuditRow[]> {
  return withSql(databaseUrl, async (sql) => {
    const rows = await sql.unsafe(
      `SELECT id, actor_type, actor_id, action, target_type, target_id, amount, details, request_id
       FROM pay.audit_log WHERE action LIKE 'refund.%' ORDER BY created_at, id`,
    );
    return rows.map((r) => ({
      id: text(r.id, 'id'),
      actorType: text(r.actor_type, 'actor_type'),
      actorId: text(r.actor_id, 'actor_id'),
      action: text(r.action, 'action'),
      targetType: textOrNull(r.target_type, 'target_type'),
      targetId: textOrNull(r.target_id, 'target_id'),
      amount: intOrNull(r.amount, 'amount'),
      details:
        typeof r.details === 'object' && r.details !== null ? (r.details as Record<string, unknown>) : {},
      requestId: textOrNull(r.request_id, 'request_id'),
    }));
  });
}

/** What pay and the sandbox say was refunded of one payment. */
export interface RefundedSides {
  readonly pay: {
    readonly status: string;
    readonly amount: number;
    readonly amountRefunded: number;
    /** Each refund row: status and amount. */
    readonly refunds: readonly { readonly id: string; readonly status: string; readonly amount: number }[];
  };
  readonly sandbox: {
    /** The charge's `amount_refunded`. */
    readonly amountRefunded: number;
    readonly refunds: readonly { readonly id: string; readonly status: string; readonly amount: number }[];
  };
}

/** Both sides of one payment's refunds. */
export async function refundedSides(battery: Battery, paymentId: string): Promise<RefundedSides> {
  const [state, sandbox] = await Promise.all([
    readPayState(battery.database.url),
    readSandboxState(battery.ctx.sandbox),
  ]);
  const payment = state.payments.find((p) => p.id === paymentId);
  if (payment === undefined) {
    throw new Error(`no payment ${paymentId}`);
  }
  const intent = payment.stripe_payment_intent_id;
  const charge = sandbox.charges.find((c) => c.payment_intent === intent);
  return {
    pay: {
      status: payment.status,
      amount: payment.amount,
      amountRefunded: payment.amount_refunded,
      refunds: state.refunds
        .filter((r) => r.payment_id === paymentId)
        .map((r) => ({ id: r.id, status: r.status, amount: r.amount })),
    },
    sandbox: {
      amountRefunded: charge?.amount_refunded ?? 0,
      refunds: sandbox.refunds
        .filter((r) => r.payment_intent === intent || (charge !== undefined && r.charge === charge.id))
        .map((r) => ({ id: r.id, status: r.status ?? 'unknown', amount: r.amount })),
    },
  };
}

/** Σ of the amounts of `refunds` in `statuses`. */
export function sumRefunded(
  refunds: readonly { readonly status: string; readonly amount: number }[],
  statuses: readonly string[] = ['succeeded', 'pending'],
): number {
  return refunds.filter((r) => statuses.includes(r.status)).reduce((sum, r) => sum + r.amount, 0);
}

/** The sandbox's `POST /v1/refunds` calls so far (its request log). */
export function refundCreates(battery: Battery): number {
  return battery.sandbox.requests({ method: 'POST', path: '/v1/refunds' }).length;
}

/** An audit row's detail as an integer, for comparing before/after amounts. */
export function detailInt(row: AuditRow, name: string): number | null {
  const value = row.details[name];
  return value === undefined || value === null ? null : int(value, `details.${name}`);
}
