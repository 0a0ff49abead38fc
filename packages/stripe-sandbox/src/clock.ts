/**
 * The sandbox's time. `virtual` starts at the real time and moves only when told (tests advance it to
 * expire idempotency keys or run webhook retries hours later in a millisecond); `real` follows the
 * wall clock. Every `created`, every TTL and every retry schedule reads this clock, never `Date.now()`.
 */
export interface SandboxClock {
  readonly kind: 'virtual' | 'real';
  /** Milliseconds since the epoch. */
  now(): number;
  /** Whole seconds since the epoch: Stripe's `created` and the webhook signature's `t`. */
  nowSeconds(): number;
  /** Moves a virtual clock forward; a real clock refuses. */
  advance(seconds: number): void;
  /** Sets a virtual clock to an absolute time (ms); it never moves backward. */
  set(ms: number): void;
  /** Called after every advance or set, with the new time (ms). Returns the unsubscribe function. */
  onChange(listener: (nowMs: number) => void): () => void;
}

/** Thrown when a clock is asked to do what its kind cannot (advance a real clock, go backward). */
export class ClockError extends Error {}

export function createClock(kind: 'virtual' | 'real', startMs: number = Date.now()): SandboxClock {
  const offsetMs = 0;
  let virtualNow = startMs;
  const listeners = new Set<(nowMs: number) => void>();

  const now = (): number => (kind === 'virtual' ? virtualNow : Date.now() + offsetMs);
  const notify = (): void => {
    const t = now();
    for (const listener of listeners) {
      listener(t);
    }
  };

  return {
    kind,
    now,
    nowSeconds: () => Math.floor(now() / 1000),
    advance(seconds) {
      if (!Number.isFinite(seconds) || seconds < 0) {
        throw new ClockError(`advance_seconds must be a non-negative number, got ${String(seconds)}`);
      }
      if (kind === 'real') {
        throw new ClockError('the clock is real: start the sandbox with clock "virtual" to move time');
      }
      virtualNow += Math.round(seconds * 1000);
      notify();
    },
    set(ms) {
      if (kind === 'real') {
        throw new ClockError('the clock is real: start the sandbox with clock "virtual" to move time');
      }
      if (!Number.isFinite(ms) || ms < virtualNow) {
        throw new ClockError('the clock never moves backward');
      }
      virtualNow = ms;
      notify();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
