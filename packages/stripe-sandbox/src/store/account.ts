import { accountIdForKey, invalidKeyError, isTestKey } from '../auth.js';
import type { TestCard } from '../cards.js';
import type { SandboxClock } from '../clock.js';
import type { SettleOutcome } from '../faults/api-faults.js';
import { IdempotencyStore } from '../idempotency.js';
import type { ChargeObject } from '../objects/charge.js';
import type { CustomerObject } from '../objects/customer.js';
import type { BalanceTransactionObject, DisputeObject } from '../objects/ledger-objects.js';
import type { PaymentIntentObject } from '../objects/payment-intent.js';
import type { PaymentMethodObject } from '../objects/payment-method.js';
import type { RefundObject } from '../objects/refund.js';
import type { SandboxEvent } from '../webhooks/hub.js';
import { Collection } from './collection.js';

export interface CustomerRecord {
  readonly object: CustomerObject;
  readonly deleted: boolean;
}

export interface PaymentMethodRecord {
  readonly object: PaymentMethodObject;
  /** The test-card row that decides what charging it does. */
  readonly card: TestCard;
  /** Set up for off-session use by a successful payment with `setup_future_usage=off_session`. */
  readonly setUpForOffSession: boolean;
}

/** A PaymentIntent and what the sandbox remembers about its current confirmation. */
export interface PaymentIntentRecord {
  readonly object: PaymentIntentObject;
  readonly returnUrl: string | null;
  readonly offSession: boolean;
  readonly errorOnRequiresAction: boolean;
  /** 3-D Secure already succeeded for the current payment method (manual confirmation waits for confirm). */
  readonly authenticated: boolean;
  /** While `processing`: how it will settle. Null in every other status. */
  readonly settlement: PendingSettlement | null;
}

/**
 * The pending end of one stay in `processing`. Its identity is the token a scheduled settlement checks: a
 * cancel, a settle call or a later stay replaces it, and the stale timer then does nothing.
 */
export interface PendingSettlement {
  /** The fault's outcome; null lets the card decide. */
  readonly outcome: SettleOutcome | null;
}

export interface ChargeRecord {
  readonly object: ChargeObject;
  readonly dispute: string | null;
}

/**
 * One account's objects and idempotency keys. Records are immutable values replaced on change (see
 * {@link Collection}), so events and stored responses can hold them as snapshots.
 */
export class Account {
  readonly customers = new Collection<CustomerRecord>('customer');
  readonly paymentMethods = new Collection<PaymentMethodRecord>('payment_method');
  readonly paymentIntents = new Collection<PaymentIntentRecord>('payment_intent');
  readonly charges = new Collection<ChargeRecord>('charge');
  readonly refunds = new Collection<RefundObject>('refund');
  readonly disputes = new Collection<DisputeObject>('dispute');
  readonly events = new Collection<SandboxEvent>('event');
  readonly balanceTransactions = new Map<string, BalanceTransactionObject>();
  readonly idempotency: IdempotencyStore;

  constructor(
    readonly id: string,
    /** The version objects and events are rendered for when a request names none. */
    readonly apiVersion: string,
    clock: SandboxClock,
    idempotencyTtlMs: number,
  ) {
    this.idempotency = new IdempotencyStore(clock, idempotencyTtlMs);
  }
}

/** An account configured at start-up: its id, the keys that reach it, its default API version. */
export interface AccountConfig {
  id?: string;
  apiKeys: readonly string[];
  apiVersion?: string;
}

/**
 * Maps API keys to accounts. Unrestricted (no configured keys), any `sk_test_…`/`rk_test_…` key is accepted
 * and is its own account; restricted, only configured keys are. Accounts are created on first use and
 * dropped by `reset()` (their ids, derived from config or key, stay the same).
 */
export class AccountRegistry {
  private readonly keys = new Map<string, { id: string; apiVersion: string }>();
  private readonly accounts = new Map<string, Account>();

  constructor(
    private readonly clock: SandboxClock,
    /** The version for accounts configured without one, and for responses before authentication. */
    readonly defaultApiVersion: string,
    private readonly idempotencyTtlMs: number,
    configs: readonly AccountConfig[],
  ) {
    for (const config of configs) {
      const first = config.apiKeys[0];
      if (first === undefined) {
        throw new Error('an account needs at least one API key');
      }
      const id = config.id ?? accountIdForKey(first);
      for (const key of config.apiKeys) {
        if (!isTestKey(key)) {
          throw new Error(`API key ${key} is not a test-mode secret key (sk_test_… or rk_test_…)`);
        }
        this.keys.set(key, { id, apiVersion: config.apiVersion ?? defaultApiVersion });
      }
    }
  }

  /** Whether only configured keys are accepted. */
  get restricted(): boolean {
    return this.keys.size > 0;
  }

  /** The account a key reaches; throws Stripe's 401 for a key the sandbox does not accept. */
  resolve(key: string): Account {
    const configured = this.keys.get(key);
    if (configured === undefined && (this.restricted || !isTestKey(key))) {
      throw invalidKeyError(key);
    }
    const id = configured?.id ?? accountIdForKey(key);
    let account = this.accounts.get(id);
    if (account === undefined) {
      account = new Account(
        id,
        configured?.apiVersion ?? this.defaultApiVersion,
        this.clock,
        this.idempotencyTtlMs,
      );
      this.accounts.set(id, account);
    }
    return account;
  }

  get(id: string): Account | undefined {
    return this.accounts.get(id);
  }

  all(): Account[] {
    return [...this.accounts.values()];
  }

  /** The configured keys and their accounts (for the CLI banner and `GET /_sandbox/accounts`). */
  configured(): { key: string; account: string }[] {
    return [...this.keys].map(([key, { id }]) => ({ key, account: id }));
  }

  reset(): void {
    this.accounts.clear();
  }
}
