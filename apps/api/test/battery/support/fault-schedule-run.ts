import { randomBytes } from 'node:crypto';
import {
  DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS,
  isPayError,
  type AccountId,
  type Actor,
  type PaymentAttempt,
  type RefundAttempt,
  type WebhookStatus,
} from '@pay/core';
import { checkInvariants, checkK5, readPayState, readSandboxState, type Violation } from '@pay/reliability';
import { createPay, loadConfig, type Pay } from '@pay/runtime';
import type { Battery } from './battery.js';
import type { RequestLogEntry, SandboxFault } from './fault-case.js';
import {
  holdOf,
  sandboxFaultOf,
  type FaultStep,
  type FaultTiming,
  type PaymentPlan,
  type RefundPlan,
  type Schedule,
  type WebhookMoment,
} from './fault-schedule.js';
import { seededRandom } from './figures.js';
import { accountIdOf } from './in-process-pay.js';
import { withSql } from './pay-sql.js';
import {
  listSandboxEvents,
  newWebhookSecret,
  payloadOf,
  shuffled,
  stripeSignatureHeader,
} from './webhooks.js';

/*
 * Runs one B5 schedule against pay in this process (the services `pay recover` and the API routes
 * call, as `createPay` wires them: pay's pool as `pay_service`, the real `stripe` SDK to the battery's
 * sandbox), then recovers and checks. Each run starts from an empty world: the sandbox reset (so its
 * account holds this run's objects only) and pay's per-run tables emptied, the account, its keys and
 * its plan kept — K1–K5 read whole tables, so that is what scopes them to one run.
 */

const PAYMENTS_PATH = '/api/v1/payments';
const REFUNDS_PATH = '/api/v1/refunds';
const ADMIN: Actor = { type: 'cli_operator', id: 'b5-admin' };
/** Tables that outlive a run: who the account is and what it sells. */
const KEPT_TABLES = new Set(['accounts', 'api_keys', 'plans', '__migrations']);
/** A client's pause between its retries. */
const RETRY_PAUSE_MS = 20;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Where pay names its payment on a PaymentIntent (`@pay/stripe-adapter`'s METADATA_PAYMENT_ID; the API does not depend on the adapter). */
const METADATA_PAYMENT_ID = 'pay_payment_id';

/** Figures summed over every run of a property. */
export class ScheduleFigures {
  runs = 0;
  payments = 0;
  refunds = 0;
  clientAttempts = 0;
  /** Runs whose recovery needed the pass a day later (a stored 500 on a create waits for Stripe's key window). */
  dayPasses = 0;
  webhookDeliveries = 0;
  webhooksLost = 0;
  readonly answers = new Map<string, number>();
  readonly faultsTaken = new Map<string, number>();
  readonly finalPayments = new Map<string, number>();
  /** Milliseconds spent in each phase of the runs, summed. */
  readonly phaseMs = new Map<string, number>();

  count(map: Map<string, number>, key: string, n = 1): void {
    map.set(key, (map.get(key) ?? 0) + n);
  }
}

/** pay in this process, one per `PAY_STRIPE_MAX_NETWORK_RETRIES` a schedule may pick, and the run state. */
export interface ScheduleWorld {
  readonly battery: Battery;
  readonly timing: FaultTiming;
  readonly lockTimeoutMs: number;
  readonly figures: ScheduleFigures;
  /** Runs one schedule; `passesAfterLockTimeout` recovery passes run a lock timeout later (see recover). */
  run(schedule: Schedule, passesAfterLockTimeout?: number): Promise<void>;
  close(): Promise<void>;
}

/** What the client got from one attempt: an answer a client can act on, or an error pay should not give. */
interface ClientAnswer {
  /** `201 succeeded`, `402 declined`, `503 dependency_unavailable`… */
  readonly label: string;
  readonly retryable: boolean;
  /** The object the final answer is about (payment or refund id), when final. */
  readonly objectId: string | null;
  readonly replayed: boolean;
  /** Set when the answer is one pay must never give (an unexpected error, a 5xx other than 503). */
  readonly unexpected: string | null;
}

const RETRYABLE_CODES = new Set(['dependency_unavailable', 'idempotency_key_in_use', 'rate_limited']);
/** Final refusals a refund may legitimately get in a schedule (another refund took the rest, a payment not captured). */
const REFUND_REFUSALS = new Set(['refund_exceeds_captured', 'invalid_state']);

function answerOfError(error: unknown, allowed: ReadonlySet<string>): ClientAnswer {
  if (isPayError(error) && RETRYABLE_CODES.has(error.code)) {
    return {
      label: `error ${error.code}`,
      retryable: true,
      objectId: null,
      replayed: false,
      unexpected: null,
    };
  }
  if (isPayError(error) && allowed.has(error.code)) {
    return {
      label: `error ${error.code}`,
      retryable: false,
      objectId: null,
      replayed: false,
      unexpected: null,
    };
  }
  const described = isPayError(error)
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error);
  return { label: 'unexpected', retryable: false, objectId: null, replayed: false, unexpected: described };
}

function answerOfPayment(attempt: PaymentAttempt): ClientAnswer {
  const { result } = attempt;
  const label = result.kind === 'rejected' ? `rejected ${result.error.code}` : result.kind;
  return {
    label,
    retryable: false,
    objectId: result.view.payment.id,
    replayed: attempt.replayed,
    unexpected: null,
  };
}

function answerOfRefund(attempt: RefundAttempt): ClientAnswer {
  return {
    label: `refund ${attempt.refund.status}`,
    retryable: false,
    objectId: attempt.refund.id,
    replayed: attempt.replayed,
    unexpected: null,
  };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Opens pay twice over the battery (0 and 1 SDK retries) and learns which tables a run empties. */
export async function openScheduleWorld(battery: Battery, timing: FaultTiming): Promise<ScheduleWorld> {
  const lockTimeoutMs = DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS;
  const webhookSecret = newWebhookSecret();
  const open = (sdkRetries: number): Promise<Pay> =>
    createPay(
      loadConfig(
        battery.env({
          PAY_LOG_LEVEL: 'error',
          PAY_MIGRATE: 'false',
          PAY_STRIPE_TIMEOUT_MS: String(timing.stripeTimeoutMs),
          PAY_STRIPE_MAX_NETWORK_RETRIES: String(sdkRetries),
          PAY_WEBHOOK_CATCH_UP: 'true',
          STRIPE_WEBHOOK_SECRETS: webhookSecret,
        }),
      ),
      { role: 'cli' },
    );
  const pays: readonly [Pay, Pay] = [await open(0), await open(1)];
  const tables = await withSql(battery.database.url, async (sql) => {
    const rows = await sql.unsafe(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'pay' ORDER BY tablename`,
    );
    return rows.map((r) => String(r.tablename)).filter((t) => !KEPT_TABLES.has(t));
  });
  const figures = new ScheduleFigures();
  let holdUntil = 0;
  const waitForHolds = async (): Promise<void> => {
    const left = holdUntil - Date.now();
    if (left > 0) {
      await pause(left + 50);
    }
  };
  return {
    battery,
    timing,
    lockTimeoutMs,
    figures,
    async run(schedule, passesAfterLockTimeout = 2) {
      const resetStart = performance.now();
      await waitForHolds();
      battery.sandbox.reset();
      await withSql(battery.database.url, (sql) =>
        sql.unsafe(`TRUNCATE ${tables.map((t) => `pay."${t}"`).join(', ')} CASCADE`),
      );
      figures.count(figures.phaseMs, 'reset', Math.round(performance.now() - resetStart));
      const run = new ScheduleRun(
        battery,
        pays[schedule.sdkRetries],
        schedule,
        timing,
        webhookSecret,
        figures,
        {
          extendHold: (until) => {
            holdUntil = Math.max(holdUntil, until);
          },
          waitForHolds,
          lockTimeoutMs,
          passesAfterLockTimeout,
        },
      );
      await run.execute();
    },
    async close() {
      await waitForHolds();
      await Promise.all(pays.map((p) => p.close()));
    },
  };
}

interface RunHooks {
  extendHold(until: number): void;
  waitForHolds(): Promise<void>;
  readonly lockTimeoutMs: number;
  readonly passesAfterLockTimeout: number;
}

/** One schedule's run: the client's calls under faults, webhook deliveries, recovery, then the checks. */
class ScheduleRun {
  private readonly accountId: AccountId;
  private readonly random: () => number;
  private readonly violations: string[] = [];
  private readonly offered = new Set<string>();
  private readonly armed: { id: string; fault: SandboxFault; hold: number; times: number }[] = [];
  private readonly tag = randomBytes(4).toString('hex');

  constructor(
    private readonly battery: Battery,
    private readonly pay: Pay,
    private readonly schedule: Schedule,
    private readonly timing: FaultTiming,
    private readonly webhookSecret: string,
    private readonly figures: ScheduleFigures,
    private readonly hooks: RunHooks,
  ) {
    this.accountId = accountIdOf(battery);
    this.random = seededRandom(schedule.deliverySeed);
  }

  async execute(): Promise<void> {
    const { figures } = this;
    figures.runs += 1;
    await this.timed('client', async () => {
      for (const [i, plan] of this.schedule.payments.entries()) {
        await this.payment(i, plan);
      }
    });
    await this.timed('webhooks at the end', () => this.deliverWebhooks('end'));
    await this.recover();
    this.tallySandboxCalls();
    if (this.violations.length > 0) {
      throw new Error(`B5 run failed:\n  ${this.violations.join('\n  ')}`);
    }
  }

  private async timed(phase: string, fn: () => Promise<void>): Promise<void> {
    const start = performance.now();
    try {
      await fn();
    } finally {
      this.figures.count(this.figures.phaseMs, phase, Math.round(performance.now() - start));
    }
  }

  // --- faults ----------------------------------------------------------------------------------

  private arm(steps: readonly FaultStep[]): void {
    for (const step of steps) {
      const fault = sandboxFaultOf(step, this.timing);
      if (fault !== null) {
        this.armFault(fault, holdOf(step, this.timing), step.times);
      }
    }
  }

  private armFault(fault: SandboxFault, hold: number, times: number): void {
    const added = this.battery.sandbox.faults.add(fault);
    if ('id' in added) {
      this.armed.push({ id: added.id, fault, hold, times });
    }
  }

  /**
   * Clears every armed fault and returns what was left of each (`times` not yet taken). A hold taken
   * even once may still keep a request in flight: the run waits for it before recovery trusts Stripe.
   */
  private disarm(): { fault: SandboxFault; hold: number; times: number }[] {
    const active = new Map(this.battery.sandbox.faults.list().map((v) => [v.id, v.remaining ?? 0]));
    const left: { fault: SandboxFault; hold: number; times: number }[] = [];
    for (const a of this.armed) {
      const remaining = active.get(a.id) ?? 0;
      if (a.hold > 0 && remaining < a.times) {
        this.hooks.extendHold(Date.now() + a.hold);
      }
      if (remaining > 0) {
        left.push({ fault: a.fault, hold: a.hold, times: remaining });
      }
    }
    this.armed.length = 0;
    this.battery.sandbox.faults.clear();
    return left;
  }

  private rearm(left: readonly { fault: SandboxFault; hold: number; times: number }[]): void {
    for (const l of left) {
      this.armFault({ ...l.fault, times: l.times } as SandboxFault, l.hold, l.times);
    }
  }

  // --- the client ------------------------------------------------------------------------------

  private async payment(i: number, plan: PaymentPlan): Promise<void> {
    this.figures.payments += 1;
    const userId = `b5-user-${i}-${this.tag}`;
    const key = `b5-payment-${i}-${this.tag}-${randomBytes(6).toString('hex')}`;
    const params = { user_id: userId, plan_id: this.battery.planId, payment_method_id: plan.card };
    const attempt = async (): Promise<ClientAnswer> => {
      this.figures.clientAttempts += 1;
      try {
        return answerOfPayment(
          await this.pay.services.payments.create(
            { accountId: this.accountId, userId, planId: this.battery.planId, paymentMethodId: plan.card },
            {
              accountId: this.accountId,
              key,
              method: 'POST',
              path: PAYMENTS_PATH,
              params,
              requestId: `req_b5_${randomBytes(8).toString('hex')}`,
            },
          ),
        );
      } catch (error) {
        return answerOfError(error, new Set());
      }
    };
    this.arm(plan.faults);
    const answers = await this.firstAttempts(attempt, plan.overlap);
    if (plan.webhooks === 'mid') {
      const left = this.disarm();
      await this.deliverWebhooks('mid');
      this.rearm(left);
    }
    await this.retries(attempt, answers, plan.retries);
    this.disarm();
    await this.judge(`payment #${i} (${key})`, attempt, answers);
    if (plan.webhooks === 'after') {
      await this.deliverWebhooks('after');
    }
    const paymentId = answers.find((a) => a.objectId !== null)?.objectId ?? (await this.paymentIdOfKey(key));
    if (paymentId !== null && plan.refunds.length > 0) {
      await this.refunds(i, paymentId, plan.refunds, plan.refundsAtOnce);
    }
  }

  private async refunds(
    i: number,
    paymentId: string,
    plans: readonly RefundPlan[],
    atOnce: boolean,
  ): Promise<void> {
    const one = async (plan: RefundPlan, j: number): Promise<void> => {
      this.figures.refunds += 1;
      const key = `b5-refund-${i}-${j}-${this.tag}-${randomBytes(6).toString('hex')}`;
      const amount =
        plan.amount === 'rest'
          ? undefined
          : Math.max(1, Math.floor((this.battery.planAmount * plan.amount) / 1000));
      const params = amount === undefined ? { payment_id: paymentId } : { payment_id: paymentId, amount };
      const attempt = async (): Promise<ClientAnswer> => {
        this.figures.clientAttempts += 1;
        const requestId = `req_b5_${randomBytes(8).toString('hex')}`;
        try {
          return answerOfRefund(
            await this.pay.services.refunds.create(
              { accountId: this.accountId, paymentId, amount },
              { ...ADMIN, requestId },
              { accountId: this.accountId, key, method: 'POST', path: REFUNDS_PATH, params, requestId },
            ),
          );
        } catch (error) {
          return answerOfError(error, REFUND_REFUSALS);
        }
      };
      const answers = await this.firstAttempts(attempt, false);
      await this.retries(attempt, answers, plan.retries);
      await this.judge(`refund ${j} of payment #${i} (${key})`, attempt, answers);
    };
    const faults = plans.flatMap((p) => p.faults);
    this.arm(faults);
    if (atOnce) {
      await Promise.all(plans.map(one));
    } else {
      for (const [j, plan] of plans.entries()) {
        await one(plan, j);
      }
    }
    this.disarm();
  }

  private async firstAttempts(
    attempt: () => Promise<ClientAnswer>,
    overlap: boolean,
  ): Promise<ClientAnswer[]> {
    if (!overlap) {
      return [await attempt()];
    }
    const first = attempt();
    await pause(5);
    const second = attempt();
    return [await first, await second];
  }

  private async retries(
    attempt: () => Promise<ClientAnswer>,
    answers: ClientAnswer[],
    retries: number,
  ): Promise<void> {
    for (let r = 0; r < retries && answers.every((a) => a.retryable || a.unexpected !== null); r++) {
      await pause(RETRY_PAUSE_MS);
      answers.push(await attempt());
    }
  }

  /**
   * Every answer must be one a client can act on, and once one was final, the same key must answer it
   * again, marked replayed (P1) — asked after the faults cleared, so the replay is the stored answer.
   */
  private async judge(
    label: string,
    attempt: () => Promise<ClientAnswer>,
    answers: ClientAnswer[],
  ): Promise<void> {
    for (const a of answers) {
      this.figures.count(this.figures.answers, a.label);
      if (a.unexpected !== null) {
        this.violations.push(`${label}: pay answered what it must never answer: ${a.unexpected}`);
      }
    }
    const final = answers.find((a) => !a.retryable && a.unexpected === null && a.objectId !== null);
    if (final === undefined) {
      return;
    }
    const again = await attempt();
    if (again.label !== final.label || again.objectId !== final.objectId || !again.replayed) {
      this.violations.push(
        `${label}: the same key answered ${final.label} (${final.objectId}), then ${again.label} (${again.objectId}, replayed ${again.replayed})`,
      );
    }
  }

  private async paymentIdOfKey(key: string): Promise<string | null> {
    const state = await readPayState(this.battery.database.url);
    return state.idempotencyKeys.find((k) => k.key === key)?.resource_id ?? null;
  }

  // --- webhooks --------------------------------------------------------------------------------

  /** Delivers the events not offered yet (some lost, some twice, shuffled), then applies the inbox. */
  private async deliverWebhooks(moment: WebhookMoment): Promise<void> {
    const { sandbox, stripeKey } = this.battery;
    const events = (await listSandboxEvents(sandbox.url, stripeKey)).filter((e) => !this.offered.has(e.id));
    const payloads: string[] = [];
    for (const event of events) {
      this.offered.add(event.id);
      if (this.random() * 100 < this.schedule.webhookLoss) {
        this.figures.webhooksLost += 1;
        continue;
      }
      const copies = this.random() * 100 < this.schedule.webhookDuplicates ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        payloads.push(payloadOf(event));
      }
    }
    for (const payload of shuffled(payloads, this.random)) {
      this.figures.webhookDeliveries += 1;
      const delivery = await this.pay.services.webhookInbox.receive(
        Buffer.from(payload, 'utf8'),
        stripeSignatureHeader(payload, this.webhookSecret),
      );
      if (delivery.kind !== 'accepted') {
        this.violations.push(`webhook delivery (${moment}) refused: ${delivery.reason} ${delivery.message}`);
      }
    }
    await this.pay.services.webhooks.processDue();
  }

  // --- recovery and the checks ---------------------------------------------------------------

  /** One recovery pass as `pay recover` runs it (payments, refunds, webhook catch-up), then the worker's. */
  private async recoveryPass(now: Date | undefined): Promise<void> {
    const { services } = this.pay;
    await services.payments.recover(now === undefined ? {} : { now });
    await services.refunds.recover(now);
    try {
      await services.webhooks.catchUp();
    } catch {
      // Stripe unreachable under an armed fault: the next pass catches up (as `pay recover` lists it).
    }
    await services.webhooks.processDue();
  }

  /**
   * Recovery as time passes: a pass at once (with the schedule's recovery faults), clean ones a lock
   * timeout later (stale keys, in-flight payments asked of Stripe), and — only when something still
   * waits, which a stored 500 on a create does until Stripe's key window closes — one a day later,
   * before which K5 may list only keys of objects still in flight.
   */
  private async recover(): Promise<void> {
    await this.timed('waiting for held calls', () => this.hooks.waitForHolds());
    await this.timed('recovery', async () => {
      this.arm(this.schedule.recoveryFaults);
      await this.recoveryPass(undefined);
      this.disarm();
    });
    await this.timed('waiting for held calls', () => this.hooks.waitForHolds());
    for (let pass = 0; pass < this.hooks.passesAfterLockTimeout; pass++) {
      await this.timed('recovery', () =>
        this.recoveryPass(new Date(Date.now() + this.hooks.lockTimeoutMs + 1_000)),
      );
    }

    const state = await readPayState(this.battery.database.url);
    const waiting = new Set([
      ...state.payments.filter((p) => ['pending', 'processing'].includes(p.status)).map((p) => p.id),
      ...state.refunds.filter((r) => r.status === 'pending').map((r) => r.id),
    ]);
    if (waiting.size > 0) {
      const keysOf = new Map(state.idempotencyKeys.map((k) => [k.id, k.resource_id]));
      for (const v of await checkK5(this.battery.ctx)) {
        const resource = keysOf.get(v.objectId) ?? null;
        if (resource === null || !waiting.has(resource)) {
          this.violations.push(`K5 before the day pass: ${v.objectId}: ${v.message}`);
        }
      }
      this.figures.dayPasses += 1;
      await this.timed('recovery', () => this.recoveryPass(new Date(Date.now() + DAY_MS + 60 * 60 * 1000)));
    }
    await this.timed('checks', () => this.check());
  }

  private async check(): Promise<void> {
    const report = await checkInvariants(this.battery.ctx);
    for (const v of report.violations) {
      this.violations.push(describeViolation(v));
    }
    const state = await readPayState(this.battery.database.url);
    for (const p of state.payments) {
      this.figures.count(this.figures.finalPayments, p.status);
    }
    await this.checkSandboxLedger();
    const inbox = await this.drainInbox();
    const { pending, failed, dead } = inbox.counts;
    if (pending + failed + dead > 0) {
      const stuck = await withSql(this.battery.database.url, (sql) =>
        sql.unsafe(
          `SELECT type, status, attempts, last_error, next_attempt_at, now() AS db_now FROM pay.webhook_events WHERE status IN ('pending', 'failed', 'dead')`,
        ),
      );
      this.violations.push(
        `the webhook inbox is not drained: ${JSON.stringify(inbox.counts)} ${JSON.stringify(stuck)}`,
      );
    }
  }

  /**
   * The inbox once every retry is done: an event whose fetch met a fault armed for recovery (a 429 from
   * Stripe) failed and waits for its backoff (1 s, then 2 s…) as the worker's loop would; it is applied
   * when due. Gives up after 5 rounds and returns the status as it is then, for the check to judge.
   */
  private async drainInbox(): Promise<WebhookStatus> {
    const { webhooks } = this.pay.services;
    for (let round = 0; round < 5; round++) {
      const status = await webhooks.status();
      if (status.counts.pending + status.counts.failed === 0) {
        return status;
      }
      const [due] = await withSql(this.battery.database.url, (sql) =>
        sql.unsafe(
          `SELECT min(next_attempt_at) AS at FROM pay.webhook_events WHERE status IN ('pending', 'failed')`,
        ),
      );
      const at = due?.at instanceof Date ? due.at.getTime() : Date.now();
      const wait = Math.min(5_000, Math.max(0, at - Date.now()));
      await new Promise((resolve) => setTimeout(resolve, wait + 50));
      await webhooks.processDue();
    }
    return webhooks.status();
  }

  /** The sandbox's own word: ≤ 1 successful charge per pay payment, Σ refunds ≤ what each intent received. */
  private async checkSandboxLedger(): Promise<void> {
    const sandbox = await readSandboxState(this.battery.ctx.sandbox);
    const paymentOfIntent = new Map(
      sandbox.paymentIntents.map((pi) => [
        pi.id,
        pi.metadata[METADATA_PAYMENT_ID] ?? `(no payment) ${pi.id}`,
      ]),
    );
    const chargesOfPayment = new Map<string, number>();
    for (const charge of sandbox.charges) {
      if (charge.status !== 'succeeded' || typeof charge.payment_intent !== 'string') {
        continue;
      }
      const payment =
        paymentOfIntent.get(charge.payment_intent) ?? `(unknown intent) ${charge.payment_intent}`;
      chargesOfPayment.set(payment, (chargesOfPayment.get(payment) ?? 0) + 1);
    }
    for (const [payment, n] of chargesOfPayment) {
      if (n > 1) {
        this.violations.push(`sandbox: ${n} successful charges for payment ${payment}`);
      }
    }
    for (const intent of sandbox.paymentIntents) {
      const refunded = sandbox.refunds
        .filter((r) => r.payment_intent === intent.id && (r.status === 'succeeded' || r.status === 'pending'))
        .reduce((sum, r) => sum + r.amount, 0);
      if (refunded > intent.amount_received) {
        this.violations.push(
          `sandbox: ${intent.id} refunded ${refunded} of ${intent.amount_received} received`,
        );
      }
    }
  }

  /** Which faults the sandbox actually applied this run, and how often Stripe answered 409 (key in flight). */
  private tallySandboxCalls(): void {
    const calls: RequestLogEntry[] = this.battery.sandbox.requests();
    for (const call of calls) {
      for (const fault of call.faults) {
        const status = fault === 'error_before' ? ` ${call.status}` : '';
        this.figures.count(this.figures.faultsTaken, `${fault}${status}`);
      }
      if (call.status === 409) {
        this.figures.count(this.figures.faultsTaken, 'Stripe 409 (key in flight)');
      }
    }
  }
}

function describeViolation(v: Violation): string {
  return `${v.invariant} ${v.objectId}: ${v.message}${v.details === undefined ? '' : ` ${JSON.stringify(v.details)}`}`;
}
