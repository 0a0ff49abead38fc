import type { FormHash } from './wire/form.js';

/** The kinds of object the ledger counts. */
export type LedgerKind = 'customer' | 'payment_method' | 'payment_intent' | 'charge' | 'refund' | 'dispute';

/** One object created, by whom and when. */
export interface LedgerObject {
  readonly kind: LedgerKind;
  readonly id: string;
  readonly account: string;
  /** Unix seconds on the sandbox clock. */
  readonly created: number;
  /** The API request that created it; null for automatic work (a dispute opening later). */
  readonly requestId: string | null;
}

/** One API call received (control-plane calls are not logged). */
export interface RequestLogEntry {
  readonly requestId: string;
  /** Sandbox clock, ms. */
  readonly at: number;
  readonly account: string | null;
  readonly method: string;
  readonly path: string;
  /** The route pattern that matched, e.g. `/v1/payment_intents/:intent/confirm`. */
  readonly route: string | null;
  readonly params: FormHash | null;
  readonly idempotencyKey: string | null;
  /** The request's `Stripe-Version` header, null when it sent none. */
  readonly stripeVersion: string | null;
  /** The request's `Content-Type` header. */
  readonly contentType: string | null;
  /** The scheme of its `Authorization` header (`Bearer`, `Basic`), null without one. */
  readonly authScheme: string | null;
  readonly status: number;
  /** The response was an idempotent replay. */
  readonly replayed: boolean;
  /** The API fault that shaped the response, if any (`error_before`, `drop_after_commit`, …). */
  readonly faults: readonly string[];
  /** Wall-clock time spent answering, including injected latency. */
  readonly durationMs: number;
}

export interface ObjectFilter {
  kind?: LedgerKind;
  account?: string;
}

export interface RequestFilter {
  method?: string;
  path?: string;
  account?: string;
  idempotencyKey?: string;
}

/**
 * Every object created and every API call received, so tests can count charges (SANDBOX.md §6). Objects
 * are kept in full; the request log keeps the newest `requestLimit` entries (a benchmark sends millions).
 */
export class Ledger {
  private objectLog: LedgerObject[] = [];
  private requestLog: RequestLogEntry[] = [];
  private requestStart = 0;
  private readonly counts = new Map<string, number>();

  constructor(private readonly requestLimit: number) {}

  recordObject(entry: LedgerObject): void {
    this.objectLog.push(entry);
    this.counts.set(entry.kind, (this.counts.get(entry.kind) ?? 0) + 1);
  }

  recordRequest(entry: RequestLogEntry): void {
    this.requestLog.push(entry);
    // Trim in batches so the hot path stays O(1) amortised.
    if (this.requestLog.length - this.requestStart > this.requestLimit) {
      this.requestStart += 1;
      if (this.requestStart >= 4096) {
        this.requestLog = this.requestLog.slice(this.requestStart);
        this.requestStart = 0;
      }
    }
  }

  objects(filter: ObjectFilter = {}): LedgerObject[] {
    return this.objectLog.filter(
      (o) =>
        (filter.kind === undefined || o.kind === filter.kind) &&
        (filter.account === undefined || o.account === filter.account),
    );
  }

  /** How many objects of `kind` were created, in one account or in all. */
  count(kind: LedgerKind, account?: string): number {
    return account === undefined ? (this.counts.get(kind) ?? 0) : this.objects({ kind, account }).length;
  }

  requests(filter: RequestFilter = {}): RequestLogEntry[] {
    return this.requestLog
      .slice(this.requestStart)
      .filter(
        (r) =>
          (filter.method === undefined || r.method === filter.method.toUpperCase()) &&
          (filter.path === undefined || r.path === filter.path) &&
          (filter.account === undefined || r.account === filter.account) &&
          (filter.idempotencyKey === undefined || r.idempotencyKey === filter.idempotencyKey),
      );
  }

  reset(): void {
    this.objectLog = [];
    this.requestLog = [];
    this.requestStart = 0;
    this.counts.clear();
  }
}
