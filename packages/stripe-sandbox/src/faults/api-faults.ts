import { latencySampler, LatencySpecError, type LatencyDistribution } from './latency.js';

/** Which API requests a fault applies to; every given field must match. */
export interface FaultMatch {
  /** HTTP method, any case. */
  method?: string;
  /** Path glob: `*` matches within one path segment, `**` across segments, `?` one character. */
  path?: string;
  idempotencyKey?: string;
  /** Account id (`acct_…`). */
  account?: string;
}

interface FaultBase {
  match?: FaultMatch;
  /** How many requests it affects; until cleared when omitted. */
  times?: number;
}

/** API faults (SANDBOX.md §6.4). Webhook faults (`webhook_*`) belong to the hub. */
export type ApiFault =
  /** Answer before execution; nothing is stored. 429 bodies carry `rate_limit` unless `code` says `lock_timeout`. */
  | (FaultBase & { kind: 'error_before'; status: 500 | 503 | 429; code?: 'rate_limit' | 'lock_timeout' })
  /** Execute and commit, then store and answer a 500 (`Stripe-Should-Retry: false`). */
  | (FaultBase & { kind: 'error_after'; status?: 500 })
  /** Execute and store, then destroy the socket without answering. */
  | (FaultBase & { kind: 'drop_after_commit' })
  /** Hold the request in flight (key claimed) for `ms` before executing. */
  | (FaultBase & { kind: 'delay'; ms: number })
  /** Like `delay`, with the hold drawn from a distribution (or fixed `ms`). */
  | (FaultBase & { kind: 'latency'; ms?: number; distribution?: LatencyDistribution })
  /**
   * A matched confirmation that would charge the card leaves the intent in `processing` instead
   * (`payment_intent.processing`, no charge yet). It settles to `outcome` — by default what the card itself
   * does — once the sandbox clock passes `settle_after_seconds`, or when the control plane settles it.
   */
  | (FaultBase & { kind: 'processing'; settle_after_seconds?: number; outcome?: SettleOutcome })
  /** Prune stored idempotency keys now (matching `match.idempotencyKey` / `match.account`, or all). */
  | { kind: 'idempotency_expire'; match?: Pick<FaultMatch, 'idempotencyKey' | 'account'> };

/**
 * How a `processing` intent settles: `succeeded` charges the card as a success (`requires_capture` under
 * manual capture), `failed` declines it with the card's own decline, or `generic_decline` for a card that
 * would have succeeded.
 */
export type SettleOutcome = 'succeeded' | 'failed';

/** The `processing` fault, which the PaymentIntent flow takes during execution rather than the pipeline. */
export type ProcessingFault = Extract<ApiFault, { kind: 'processing' }>;

export type ApiFaultKind = ApiFault['kind'];
type Held = Exclude<ApiFault, { kind: 'idempotency_expire' }>;
export type HeldFaultKind = Held['kind'];

/** A fault that makes no sense; the control plane answers 400. */
export class FaultSpecError extends Error {
  override readonly name = 'FaultSpecError';
}

/** The request a fault is matched against. */
export interface FaultTarget {
  method: string;
  path: string;
  idempotencyKey: string | null;
  account: string;
}

/** An active fault as listed by `GET /_sandbox/faults`. */
export interface ActiveFaultView {
  id: string;
  fault: ApiFault;
  remaining: number | null;
}

interface Active {
  id: string;
  /** Configured at start-up: survives `clear()` and resets. */
  permanent: boolean;
  fault: Held;
  remaining: number;
  pathPattern: RegExp | null;
  sample: (() => number) | null;
}

const API_KINDS: readonly ApiFaultKind[] = [
  'error_before',
  'error_after',
  'drop_after_commit',
  'delay',
  'latency',
  'processing',
  'idempotency_expire',
];

const SETTLE_OUTCOMES: readonly SettleOutcome[] = ['succeeded', 'failed'];

/** Whether a value is a {@link SettleOutcome}. */
export function isSettleOutcome(value: unknown): value is SettleOutcome {
  return typeof value === 'string' && (SETTLE_OUTCOMES as readonly string[]).includes(value);
}

export function isApiFaultKind(kind: unknown): kind is ApiFaultKind {
  return typeof kind === 'string' && (API_KINDS as readonly string[]).includes(kind);
}

/** `*` within a segment, `**` across segments, `?` one character; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i += 1;
    } else if (c === '*') {
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else {
      out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

function check(condition: boolean, message: string): void {
  if (!condition) {
    throw new FaultSpecError(message);
  }
}

function validate(fault: ApiFault): void {
  if ('times' in fault && fault.times !== undefined) {
    check(
      Number.isInteger(fault.times) && fault.times >= 1,
      `times must be an integer ≥ 1, got ${String(fault.times)}`,
    );
  }
  const m = fault.match;
  if (m !== undefined) {
    check(typeof m === 'object' && m !== null, 'match must be an object');
    for (const [k, v] of Object.entries(m)) {
      check(['method', 'path', 'idempotencyKey', 'account'].includes(k), `unknown match field ${k}`);
      check(typeof v === 'string', `match.${k} must be a string`);
    }
  }
  switch (fault.kind) {
    case 'error_before':
      check([500, 503, 429].includes(fault.status), 'error_before needs status 500, 503 or 429');
      check(
        fault.code === undefined ||
          (fault.status === 429 && ['rate_limit', 'lock_timeout'].includes(fault.code)),
        'code is rate_limit or lock_timeout, and only with status 429',
      );
      return;
    case 'error_after':
      check(fault.status === undefined || fault.status === 500, 'error_after answers status 500');
      return;
    case 'delay':
      check(typeof fault.ms === 'number' && Number.isFinite(fault.ms) && fault.ms >= 0, 'delay needs ms ≥ 0');
      return;
    case 'latency':
      check(
        (fault.ms === undefined) !== (fault.distribution === undefined),
        'latency needs exactly one of ms or distribution',
      );
      return;
    case 'processing':
      check(
        fault.settle_after_seconds === undefined ||
          (typeof fault.settle_after_seconds === 'number' &&
            Number.isFinite(fault.settle_after_seconds) &&
            fault.settle_after_seconds >= 0),
        'processing needs settle_after_seconds ≥ 0, or none to wait for a settle call',
      );
      check(
        fault.outcome === undefined || isSettleOutcome(fault.outcome),
        'processing outcome is succeeded or failed',
      );
      return;
    case 'drop_after_commit':
    case 'idempotency_expire':
      return;
    default: {
      const unknown: never = fault;
      throw new FaultSpecError(`unknown fault ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * The active API faults. Each kind is taken at its own stage of the pipeline (`processing` inside execution,
 * at the charge step); a request may meet several (a delay and then a dropped connection). Taking a fault
 * consumes one of its `times`.
 */
export class ApiFaultBook {
  private active: Active[] = [];
  private nextId = 1;

  /**
   * Validates and activates a fault (`idempotency_expire` is applied by the caller, not kept). A
   * `permanent` fault (the start-up latency) survives {@link clear}.
   */
  add(fault: Held, permanent = false): ActiveFaultView {
    validate(fault);
    let sample: (() => number) | null = null;
    if (fault.kind === 'latency') {
      try {
        sample = latencySampler(fault.distribution ?? { type: 'fixed', ms: fault.ms ?? 0 });
      } catch (error) {
        throw new FaultSpecError(error instanceof LatencySpecError ? error.message : String(error));
      }
    }
    const entry: Active = {
      id: `fault_${this.nextId++}`,
      permanent,
      fault: { ...fault },
      remaining: fault.times ?? Infinity,
      pathPattern: fault.match?.path === undefined ? null : globToRegExp(fault.match.path),
      sample,
    };
    this.active.push(entry);
    return this.view(entry);
  }

  /** Validates an `idempotency_expire` fault without keeping it. */
  checkExpire(fault: Extract<ApiFault, { kind: 'idempotency_expire' }>): void {
    validate(fault);
  }

  get size(): number {
    return this.active.length;
  }

  /** Consumes the oldest active fault of `kind` matching the request. */
  take<K extends HeldFaultKind>(kind: K, target: FaultTarget): Extract<Held, { kind: K }> | undefined {
    const entry = this.find(kind, target);
    return entry === undefined ? undefined : (entry.fault as Extract<Held, { kind: K }>);
  }

  /** Consumes a hold (`delay` or `latency`) and returns how long to hold, in ms. */
  takeHold(target: FaultTarget): { kind: 'delay' | 'latency'; ms: number } | undefined {
    for (const kind of ['delay', 'latency'] as const) {
      const entry = this.find(kind, target);
      if (entry !== undefined) {
        const ms = entry.fault.kind === 'delay' ? entry.fault.ms : (entry.sample?.() ?? 0);
        return { kind, ms };
      }
    }
    return undefined;
  }

  list(): ActiveFaultView[] {
    return this.active.map((entry) => this.view(entry));
  }

  /** Removes every fault but the permanent ones. */
  clear(): void {
    this.active = this.active.filter((entry) => entry.permanent);
  }

  private view(entry: Active): ActiveFaultView {
    return {
      id: entry.id,
      fault: entry.fault,
      remaining: Number.isFinite(entry.remaining) ? entry.remaining : null,
    };
  }

  private find(kind: HeldFaultKind, target: FaultTarget): Active | undefined {
    if (this.active.length === 0) {
      return undefined;
    }
    const index = this.active.findIndex((entry) => entry.fault.kind === kind && matches(entry, target));
    const entry = this.active[index];
    if (entry === undefined) {
      return undefined;
    }
    entry.remaining -= 1;
    if (entry.remaining <= 0) {
      this.active.splice(index, 1);
    }
    return entry;
  }
}

function matches(entry: Active, target: FaultTarget): boolean {
  const m = entry.fault.match;
  if (m === undefined) {
    return true;
  }
  return (
    (m.method === undefined || m.method.toUpperCase() === target.method) &&
    (entry.pathPattern === null || entry.pathPattern.test(target.path)) &&
    (m.idempotencyKey === undefined || m.idempotencyKey === target.idempotencyKey) &&
    (m.account === undefined || m.account === target.account)
  );
}
