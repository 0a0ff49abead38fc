import type { AddressInfo } from 'node:net';
import { accountIdForKey } from './auth.js';
import { createClock, type SandboxClock } from './clock.js';
import { SandboxControl, type ClockView, type FaultAdded, type SandboxFault } from './control/control.js';
import { ControlRoutes } from './control/routes.js';
import { SandboxCore } from './core.js';
import { ApiFaultBook, type ActiveFaultView, type SettleOutcome } from './faults/api-faults.js';
import { ApiPipeline } from './http/api-pipeline.js';
import { Holds } from './http/holds.js';
import { createSandboxServer } from './http/server.js';
import {
  Ledger,
  type LedgerKind,
  type LedgerObject,
  type ObjectFilter,
  type RequestFilter,
  type RequestLogEntry,
} from './ledger.js';
import type { DisputeObject } from './objects/ledger-objects.js';
import type { PaymentIntentObject } from './objects/payment-intent.js';
import type { RefundObject } from './objects/refund.js';
import { resolveOptions, type SandboxOptions } from './options.js';
import { RateLimiter } from './rate-limit.js';
import { Scheduler } from './scheduler.js';
import { AccountRegistry } from './store/account.js';
import { ThreeDSecurePage } from './three-ds/routes.js';
import type { FlushResult, WebhookHub } from './webhooks/hub.js';
import { createWebhookHub } from './webhooks/index.js';

/** A running sandbox (SANDBOX.md §6.1): where it listens, and the control plane in-process. */
export interface Sandbox {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly clock: SandboxClock;
  /** The webhook hub: endpoints, deliveries, flush, resend. */
  readonly webhooks: WebhookHub;
  /** The control plane, as the `/_sandbox/*` routes use it. */
  readonly control: SandboxControl;
  readonly faults: {
    /** Adds an API fault, a `webhook_*` fault (to the hub), or prunes keys (`idempotency_expire`). */
    add(fault: SandboxFault): FaultAdded;
    clear(): void;
    list(): ActiveFaultView[];
  };
  /** Objects created and calls received, for assertions (`count('charge')`). */
  readonly ledger: {
    objects(filter?: ObjectFilter): LedgerObject[];
    count(kind: LedgerKind, account?: string): number;
    requests(filter?: RequestFilter): RequestLogEntry[];
  };
  /** Drops all objects, keys, events, deliveries, faults and logs. */
  reset(): void;
  /** Moves a virtual clock forward. */
  advance(seconds: number): ClockView;
  /** Completes or fails a 3-D Secure challenge, as the page's buttons do. */
  authenticate(paymentIntentId: string, outcome: 'succeed' | 'fail'): PaymentIntentObject;
  /**
   * Settles a PaymentIntent the `processing` fault left in `processing`, now: to `outcome`, else the
   * fault's, else what its card does. Throws a 409 `ControlError` when it is not processing.
   */
  settle(paymentIntentId: string, outcome?: SettleOutcome): PaymentIntentObject;
  /**
   * Gives a refund of 4000000000007726 (pending → succeeded) or 4000000000005126 (succeeded → failed) its
   * final status now. Throws a 409 `ControlError` when it has no change ahead.
   */
  settleRefund(refundId: string): RefundObject;
  /** Opens a dispute on a succeeded charge. */
  dispute(chargeId: string, reason?: string): DisputeObject;
  /** Runs every webhook attempt due now and waits for them. */
  flush(): Promise<FlushResult>;
  requests(filter?: RequestFilter): RequestLogEntry[];
  /** The account id (`acct_…`) a key reaches. */
  accountIdForKey(key: string): string;
  stop(): Promise<void>;
}

/** Starts a sandbox in this process. Resolves once it listens. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const o = resolveOptions(options);
  const clock = typeof o.clock === 'string' ? createClock(o.clock, o.startTime) : o.clock;
  const hub = createWebhookHub({
    clock,
    retrySchedule: o.retrySchedule,
    autoDeliver: o.autoDeliverWebhooks,
    staticEndpoints: o.webhookEndpoints,
    defaultApiVersion: o.apiVersion,
    ...(o.webhookTimeoutMs === undefined ? {} : { timeoutMs: o.webhookTimeoutMs }),
    ...(o.webhookConcurrency === undefined ? {} : { concurrency: o.webhookConcurrency }),
  });
  const accounts = new AccountRegistry(clock, o.apiVersion, o.idempotencyTtlMs, o.accounts);
  const faults = new ApiFaultBook();
  const ledger = new Ledger(o.requestLogLimit);
  const scheduler = new Scheduler(clock, (error) =>
    o.logError('stripe-sandbox: scheduled work failed', error),
  );
  const core = new SandboxCore(
    o.settings,
    clock,
    hub,
    accounts,
    faults,
    ledger,
    scheduler,
    o.rateLimits === null ? null : new RateLimiter(o.rateLimits),
  );
  const control = new SandboxControl(core);
  const holds = new Holds();
  const server = createSandboxServer(
    new ApiPipeline(core, holds, o.logError),
    new ControlRoutes(control, new ThreeDSecurePage(core, control)),
    o.logError,
  );
  // A latency given at start-up is a permanent fault: resets and clearing faults keep it.
  if (o.latency !== null) {
    faults.add({ kind: 'latency', distribution: o.latency }, true);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost =
    o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `http://${urlHost}:${port}`;
  core.publicUrl = o.publicUrl ?? url;

  let stopping: Promise<void> | null = null;
  const configured = new Map(accounts.configured().map(({ key, account }) => [key, account]));
  return {
    url,
    host: o.host,
    port,
    clock,
    webhooks: hub,
    control,
    faults: {
      add: (fault) => control.addFault(fault),
      clear: () => control.clearFaults(),
      list: () => control.faults(),
    },
    ledger: {
      objects: (filter) => ledger.objects(filter),
      count: (kind, account) => ledger.count(kind, account),
      requests: (filter) => ledger.requests(filter),
    },
    reset: () => control.reset(),
    advance: (seconds) => control.advance(seconds),
    authenticate: (id, outcome) => control.authenticate(id, outcome),
    settle: (id, outcome) => control.settle(id, outcome),
    settleRefund: (refundId) => control.settleRefund(refundId),
    dispute: (chargeId, reason) => control.dispute(chargeId, reason),
    flush: () => control.flush(),
    requests: (filter) => ledger.requests(filter),
    accountIdForKey: (key) => configured.get(key) ?? accountIdForKey(key),
    stop: () => {
      stopping ??= (async () => {
        holds.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        scheduler.close();
        await hub.close();
      })();
      return stopping;
    },
  };
}
