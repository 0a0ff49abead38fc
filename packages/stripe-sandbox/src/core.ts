import { ExecContext } from './api/context.js';
import type { SandboxClock } from './clock.js';
import type { ApiFaultBook, FaultTarget } from './faults/api-faults.js';
import type { Ledger } from './ledger.js';
import type { RefundObject } from './objects/refund.js';
import type { RateLimiter } from './rate-limit.js';
import type { Scheduler } from './scheduler.js';
import type { Account, AccountRegistry, ChargeRecord, PaymentIntentRecord } from './store/account.js';
import type { WebhookHub } from './webhooks/hub.js';

/** Behaviour switches the handlers read (SANDBOX.md §6.1 options, resolved). */
export interface CoreSettings {
  /** `reject`: raw card numbers get Stripe's "unsafe" 400, as on accounts without raw-card access. */
  rawCardData: 'accept' | 'reject';
  /** Decline cards fail on `attach`, as localstripe does (SANDBOX.md §9 #3). */
  declineOnAttach: boolean;
  /** Seconds until an `automatic_async` capture gets its balance transaction and `charge.updated`. */
  asyncCaptureDelaySeconds: number;
  /** Seconds until the dispute of 4000000000000259 opens. */
  disputeDelaySeconds: number;
  /** Seconds until a refund of an asynchronous-refund test card takes its final status. */
  asyncRefundDelaySeconds: number;
}

/**
 * The sandbox without its HTTP server: accounts, the clock, the webhook hub, faults, the ledger and the
 * scheduler. The API pipeline and the control plane both drive it; `startSandbox` builds one.
 */
export class SandboxCore {
  /** The sandbox's own base URL, for `redirect_to_url.url`; set once the server listens. */
  publicUrl = 'http://127.0.0.1';
  /** Objects held by a request in flight (a `delay`/`latency` hold), for `lock_timeout`. */
  readonly locks = new Set<string>();

  constructor(
    readonly settings: CoreSettings,
    readonly clock: SandboxClock,
    readonly hub: WebhookHub,
    readonly accounts: AccountRegistry,
    readonly faults: ApiFaultBook,
    readonly ledger: Ledger,
    readonly scheduler: Scheduler,
    readonly rateLimiter: RateLimiter | null,
  ) {}

  /** A context for work done on behalf of an API request (`faultTarget`: that request, for execution faults). */
  context(
    account: Account,
    requestId: string | null,
    idempotencyKey: string | null,
    faultTarget: FaultTarget | null = null,
  ): ExecContext {
    return new ExecContext(this, account, requestId, idempotencyKey, faultTarget);
  }

  /**
   * Runs automatic work later on the sandbox clock (events with `request.id: null`), publishing its events
   * at once. The account is looked up again when the task runs: a reset in between drops the work.
   */
  later(account: Account, delaySeconds: number, work: (ctx: ExecContext) => void): void {
    const run = (): void => {
      if (this.accounts.get(account.id) !== account) {
        return;
      }
      const ctx = this.context(account, null, null);
      work(ctx);
      ctx.publish();
    };
    this.scheduler.at(this.clock.now() + delaySeconds * 1000, run);
  }

  /** Finds a PaymentIntent in any account (the control plane has no API key). */
  findPaymentIntent(id: string): { account: Account; record: PaymentIntentRecord } | undefined {
    for (const account of this.accounts.all()) {
      const record = account.paymentIntents.get(id);
      if (record !== undefined) {
        return { account, record };
      }
    }
    return undefined;
  }

  findRefund(id: string): { account: Account; refund: RefundObject } | undefined {
    for (const account of this.accounts.all()) {
      const refund = account.refunds.get(id);
      if (refund !== undefined) {
        return { account, refund };
      }
    }
    return undefined;
  }

  findCharge(id: string): { account: Account; record: ChargeRecord } | undefined {
    for (const account of this.accounts.all()) {
      const record = account.charges.get(id);
      if (record !== undefined) {
        return { account, record };
      }
    }
    return undefined;
  }

  /** Drops every object, key, event, fault, scheduled task and log line; static webhook endpoints stay. */
  reset(): void {
    this.accounts.reset();
    this.faults.clear();
    this.ledger.reset();
    this.scheduler.clear();
    this.rateLimiter?.reset();
    this.locks.clear();
    this.hub.reset();
  }
}
