import type { SandboxClock } from './clock.js';
import type { JsonObject } from './errors.js';

/**
 * A response as stored under a key, replayed byte for byte (SANDBOX.md §3.6). The body is kept as the
 * object graph that was serialised: stored objects are never mutated (see `Collection`), so serialising it
 * again gives the same bytes.
 */
export interface StoredResponse {
  readonly status: number;
  readonly body: JsonObject;
  /** The version the body was rendered for, sent again as `Stripe-Version`. */
  readonly stripeVersion: string;
  /** The request that executed, sent as `Original-Request` on replays. */
  readonly requestId: string;
}

interface KeyRecord {
  readonly fingerprint: string;
  readonly path: string;
  readonly createdAt: number;
  response: StoredResponse | null;
}

/** What to do with a request carrying a key: the idempotency layer's decision, as data (STYLE R5). */
export type IdempotencyDecision =
  | { kind: 'execute'; commit: (response: StoredResponse) => void; abandon: () => void }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'in_flight' }
  | { kind: 'endpoint_mismatch'; originalPath: string }
  | { kind: 'params_mismatch' };

/** Stripe's limit on key length. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * One account's idempotency keys. A key is claimed (in flight) before the handler runs and completed
 * with the response in the same synchronous step that commits the handler's state changes, so the sandbox
 * is never "executed but not stored". Records expire `ttlMs` after creation on the sandbox clock; expired
 * keys are dropped lazily on lookup and swept from the front of the (creation-ordered) map on claims.
 */
export class IdempotencyStore {
  private readonly records = new Map<string, KeyRecord>();
  private claimsSinceSweep = 0;

  constructor(
    private readonly clock: SandboxClock,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.records.size;
  }

  private expired(record: KeyRecord, now: number): boolean {
    return now - record.createdAt >= this.ttlMs;
  }

  /** Decides the fate of a POST with `key`; claims the key when the request is to execute. */
  begin(key: string, path: string, fingerprint: string): IdempotencyDecision {
    const now = this.clock.now();
    const existing = this.records.get(key);
    if (existing !== undefined && !this.expired(existing, now)) {
      if (existing.path !== path) {
        return { kind: 'endpoint_mismatch', originalPath: existing.path };
      }
      if (existing.fingerprint !== fingerprint) {
        return { kind: 'params_mismatch' };
      }
      return existing.response === null
        ? { kind: 'in_flight' }
        : { kind: 'replay', response: existing.response };
    }
    // Missing or pruned: "We generate a new request if a key is reused after the original is pruned."
    this.records.delete(key);
    const record: KeyRecord = { fingerprint, path, createdAt: now, response: null };
    this.records.set(key, record);
    this.maybeSweep(now);
    return {
      kind: 'execute',
      commit: (response) => {
        record.response = response;
      },
      // Only when the sandbox stops with the request held: nothing ran, so nothing is stored.
      abandon: () => {
        if (this.records.get(key) === record && record.response === null) {
          this.records.delete(key);
        }
      },
    };
  }

  /** Prunes one key now (the `idempotency_expire` fault). Returns whether it existed. */
  expire(key: string): boolean {
    return this.records.delete(key);
  }

  clear(): void {
    this.records.clear();
  }

  private maybeSweep(now: number): void {
    this.claimsSinceSweep += 1;
    if (this.claimsSinceSweep < 1024) {
      return;
    }
    this.claimsSinceSweep = 0;
    // Map iteration is insertion order, and re-claimed keys are re-inserted, so the oldest come first.
    for (const [key, record] of this.records) {
      if (!this.expired(record, now)) {
        break;
      }
      if (record.response !== null) {
        this.records.delete(key);
      }
    }
  }
}
