import type { ExecContext } from '../api/context.js';
import { openDispute } from '../api/disputes.js';
import type { PaymentOutcome } from '../api/payment-intent-charge.js';
import { authenticateIntent } from '../api/payment-intent-flow.js';
import { settleIntent } from '../api/payment-intent-processing.js';
import { settleRefund } from '../api/refund-settlement.js';
import { ClockError } from '../clock.js';
import type { SandboxCore } from '../core.js';
import { SandboxApiError } from '../errors.js';
import {
  FaultSpecError,
  isApiFaultKind,
  type ActiveFaultView,
  type ApiFault,
  type SettleOutcome,
} from '../faults/api-faults.js';
import type { LedgerObject, ObjectFilter, RequestFilter, RequestLogEntry } from '../ledger.js';
import type { DisputeObject } from '../objects/ledger-objects.js';
import type { PaymentIntentObject } from '../objects/payment-intent.js';
import type { RefundObject } from '../objects/refund.js';
import type { PaymentIntentRecord } from '../store/account.js';
import type { DeliveryAttempt, FlushResult, WebhookFault } from '../webhooks/hub.js';
import { WebhookResendError } from '../webhooks/index.js';

/** A fault of either kind: API faults stay in the sandbox, `webhook_*` ones go to the hub. */
export type SandboxFault = ApiFault | WebhookFault;

/** A control-plane request that cannot be honoured; the HTTP route answers with `status`. */
export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/** The clock as the control plane shows it. */
export interface ClockView {
  kind: 'virtual' | 'real';
  now_ms: number;
  /** Unix seconds, as in `created`. */
  now: number;
  iso: string;
}

/** What adding a fault did: the active API fault, `{ webhook: true }` for a hub fault, or keys pruned. */
export type FaultAdded =
  | ActiveFaultView
  | { kind: WebhookFault['kind']; webhook: true }
  | { kind: 'idempotency_expire'; pruned: number };

/**
 * The control plane (SANDBOX.md §6): the operations tests use to drive the sandbox, shared by the
 * programmatic handle of `startSandbox` and the `/_sandbox/*` HTTP routes.
 */
export class SandboxControl {
  constructor(private readonly core: SandboxCore) {}

  /** Drops all objects, keys, events, deliveries, faults and logs (static endpoints and the clock stay). */
  reset(): void {
    this.core.reset();
  }

  clock(): ClockView {
    const ms = this.core.clock.now();
    return {
      kind: this.core.clock.kind,
      now_ms: ms,
      now: Math.floor(ms / 1000),
      iso: new Date(ms).toISOString(),
    };
  }

  /** Moves a virtual clock forward; due scheduled work (and, in the hub, webhook attempts) runs. */
  advance(seconds: number): ClockView {
    this.clockOp(() => this.core.clock.advance(seconds));
    return this.clock();
  }

  /** Sets a virtual clock to an absolute time: unix seconds, or an ISO-8601 string. */
  setClock(to: number | string): ClockView {
    const ms = typeof to === 'number' ? to * 1000 : Date.parse(to);
    if (!Number.isFinite(ms)) {
      throw new ControlError(400, `set must be unix seconds or an ISO-8601 time, got ${String(to)}`);
    }
    this.clockOp(() => this.core.clock.set(ms));
    return this.clock();
  }

  private clockOp(op: () => void): void {
    try {
      op();
    } catch (error) {
      if (error instanceof ClockError) {
        throw new ControlError(400, error.message);
      }
      throw error;
    }
  }

  /** Completes or fails the 3-D Secure challenge of a PaymentIntent in `requires_action` (SANDBOX.md §6.3). */
  authenticate(paymentIntentId: string, outcome: 'succeed' | 'fail'): PaymentIntentObject {
    return this.driveIntent(paymentIntentId, (ctx, record) => authenticateIntent(ctx, record, outcome));
  }

  /**
   * Settles a PaymentIntent left in `processing` by the `processing` fault, now: to `outcome`, else to the
   * fault's, else to what its card does. 409 when it is not processing.
   */
  settle(paymentIntentId: string, outcome?: SettleOutcome): PaymentIntentObject {
    return this.driveIntent(paymentIntentId, (ctx, record) => settleIntent(ctx, record, outcome));
  }

  /** Runs a flow on an intent as automatic work (`request: null` events); a decline is an outcome here. */
  private driveIntent(
    paymentIntentId: string,
    flow: (ctx: ExecContext, record: PaymentIntentRecord) => PaymentOutcome,
  ): PaymentIntentObject {
    const found = this.core.findPaymentIntent(paymentIntentId);
    if (found === undefined) {
      throw new ControlError(404, `No such payment_intent: '${paymentIntentId}'`);
    }
    const ctx = this.core.context(found.account, null, null);
    try {
      return flow(ctx, found.record).record.object;
    } catch (error) {
      throw this.translate(error);
    } finally {
      ctx.publish();
    }
  }

  /**
   * Gives a refund of an asynchronous-refund test card (4000000000007726, 4000000000005126) its final
   * status now, instead of when the clock gets there. 409 when it has no change ahead.
   */
  settleRefund(refundId: string): RefundObject {
    const found = this.core.findRefund(refundId);
    if (found === undefined) {
      throw new ControlError(404, `No such refund: '${refundId}'`);
    }
    const ctx = this.core.context(found.account, null, null);
    try {
      return settleRefund(ctx, refundId);
    } catch (error) {
      throw this.translate(error);
    } finally {
      ctx.publish();
    }
  }

  /** Opens a dispute on a succeeded charge. */
  dispute(chargeId: string, reason?: string): DisputeObject {
    const found = this.core.findCharge(chargeId);
    if (found === undefined) {
      throw new ControlError(404, `No such charge: '${chargeId}'`);
    }
    const ctx = this.core.context(found.account, null, null);
    try {
      return openDispute(ctx, chargeId, reason);
    } catch (error) {
      throw this.translate(error);
    } finally {
      ctx.publish();
    }
  }

  private translate(error: unknown): unknown {
    return error instanceof SandboxApiError
      ? new ControlError(error.status === 404 ? 404 : 409, error.message)
      : error;
  }

  /** Adds an API fault, hands a `webhook_*` fault to the hub, or prunes idempotency keys now. */
  addFault(fault: SandboxFault): FaultAdded {
    const kind: unknown = (fault as { kind?: unknown }).kind;
    if (typeof kind === 'string' && kind.startsWith('webhook_')) {
      try {
        this.core.hub.addFault(fault as WebhookFault);
      } catch (error) {
        throw new ControlError(400, error instanceof Error ? error.message : String(error));
      }
      return { kind: kind as WebhookFault['kind'], webhook: true };
    }
    if (!isApiFaultKind(kind)) {
      throw new ControlError(400, `unknown fault kind ${JSON.stringify(kind)}`);
    }
    const apiFault = fault as ApiFault;
    try {
      if (apiFault.kind === 'idempotency_expire') {
        this.core.faults.checkExpire(apiFault);
        return { kind: 'idempotency_expire', pruned: this.expireKeys(apiFault.match ?? {}) };
      }
      return this.core.faults.add(apiFault);
    } catch (error) {
      throw error instanceof FaultSpecError ? new ControlError(400, error.message) : error;
    }
  }

  private expireKeys(match: { idempotencyKey?: string; account?: string }): number {
    let pruned = 0;
    for (const account of this.core.accounts.all()) {
      if (match.account !== undefined && match.account !== account.id) {
        continue;
      }
      if (match.idempotencyKey === undefined) {
        pruned += account.idempotency.size;
        account.idempotency.clear();
      } else if (account.idempotency.expire(match.idempotencyKey)) {
        pruned += 1;
      }
    }
    return pruned;
  }

  /** Clears API faults and webhook faults. */
  clearFaults(): void {
    this.core.faults.clear();
    this.core.hub.clearFaults();
  }

  faults(): ActiveFaultView[] {
    return this.core.faults.list();
  }

  /** Runs every webhook attempt due now and waits for them. */
  flush(): Promise<FlushResult> {
    return this.core.hub.flush();
  }

  deliveries(filter: { event?: string; endpoint?: string } = {}): DeliveryAttempt[] {
    return this.core.hub.deliveries(filter);
  }

  /** Delivers an event again, to one endpoint or to every matching one. */
  async resend(eventId: string, endpointId?: string): Promise<FlushResult> {
    const account = this.core.accounts.all().find((a) => a.events.get(eventId) !== undefined);
    if (account === undefined) {
      throw new ControlError(404, `No such event: '${eventId}'`);
    }
    try {
      return await this.core.hub.resend(account.id, eventId, endpointId);
    } catch (error) {
      throw error instanceof WebhookResendError ? new ControlError(404, error.message) : error;
    }
  }

  requests(filter: RequestFilter = {}): RequestLogEntry[] {
    return this.core.ledger.requests(filter);
  }

  objects(filter: ObjectFilter = {}): LedgerObject[] {
    return this.core.ledger.objects(filter);
  }

  accounts(): { id: string; apiVersion: string }[] {
    return this.core.accounts.all().map((a) => ({ id: a.id, apiVersion: a.apiVersion }));
  }
}
