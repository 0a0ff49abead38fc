import type { WebhookFault } from './hub.js';

/** Thrown by `addFault` for a webhook fault whose parameters make no sense; the control plane answers 400. */
export class WebhookFaultError extends Error {
  override readonly name = 'WebhookFaultError';
}

type FaultKind = WebhookFault['kind'];
type FaultOf<K extends FaultKind> = Extract<WebhookFault, { kind: K }>;

interface ActiveFault {
  fault: WebhookFault;
  /** Uses left; Infinity when `times` was omitted (active until cleared). */
  remaining: number;
}

function requireNumber(
  value: unknown,
  name: string,
  { min, integer }: { min: number; integer: boolean },
): void {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  ) {
    throw new WebhookFaultError(
      `${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got ${String(value)}`,
    );
  }
}

function validate(fault: WebhookFault): void {
  if (fault.times !== undefined) {
    requireNumber(fault.times, 'times', { min: 1, integer: true });
  }
  switch (fault.kind) {
    case 'webhook_duplicate':
      return requireNumber(fault.count, 'count', { min: 1, integer: true });
    case 'webhook_delay':
      return requireNumber(fault.seconds, 'seconds', { min: 0, integer: false });
    case 'webhook_stale_signature':
      return requireNumber(fault.age_seconds, 'age_seconds', { min: 0, integer: true });
    case 'webhook_endpoint_down':
      if (fault.status !== undefined) {
        requireNumber(fault.status, 'status', { min: 100, integer: true });
        // A 2xx would not be a failure, and the hub promises one.
        if (fault.status >= 200 && fault.status < 300) {
          throw new WebhookFaultError(`webhook_endpoint_down needs a failing status, got ${fault.status}`);
        }
      }
      return;
    case 'webhook_shuffle':
    case 'webhook_bad_signature':
      return;
    default: {
      const unknownKind: never = fault;
      throw new WebhookFaultError(`unknown webhook fault ${JSON.stringify(unknownKind)}`);
    }
  }
}

/**
 * The active webhook faults (SANDBOX.md §6.4). Each use consumes one of the fault's `times`; the hub
 * takes a fault where it applies: duplicate and delay when an event is scheduled for an endpoint,
 * shuffle per batch of due deliveries, signature and endpoint-down faults per attempt.
 */
export class WebhookFaultBook {
  private active: ActiveFault[] = [];

  add(fault: WebhookFault): void {
    validate(fault);
    this.active.push({ fault: { ...fault }, remaining: fault.times ?? Infinity });
  }

  /** Consumes one use of the oldest active fault of `kind`, if there is one. */
  take<K extends FaultKind>(kind: K): FaultOf<K> | undefined {
    const index = this.active.findIndex((a) => a.fault.kind === kind);
    const entry = this.active[index];
    if (!entry) {
      return undefined;
    }
    entry.remaining -= 1;
    if (entry.remaining <= 0) {
      this.active.splice(index, 1);
    }
    return entry.fault as FaultOf<K>;
  }

  clear(): void {
    this.active = [];
  }
}
