/** Attempts an event gets before it is `dead` (RELIABILITY.md D9). */
export const DEFAULT_WEBHOOK_MAX_ATTEMPTS = 8;

/** The backoff between a failed event's attempts: 1 s doubling up to 1 h. */
export const DEFAULT_WEBHOOK_BACKOFF: { readonly baseMs: number; readonly capMs: number } = Object.freeze({
  baseMs: 1_000,
  capMs: 3_600_000,
});

/**
 * How long a failed event waits before attempt `attempt + 1` (`attempt` counts the failures so far,
 * from 1): `min(base·2^(attempt−1), cap)` with 50–100 % jitter, so the workers that failed on one cause
 * do not all come back at once, and never below `base` (RELIABILITY.md B6). `random` is injectable for
 * tests and returns a number in [0, 1).
 */
export function webhookRetryDelayMs(
  attempt: number,
  backoff: { readonly baseMs: number; readonly capMs: number },
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(attempt));
  // 2 ** n overflows to Infinity for large n, which the cap absorbs.
  const exponential = Math.min(backoff.baseMs * 2 ** (n - 1), backoff.capMs);
  const jittered = Math.round(exponential * (0.5 + 0.5 * random()));
  return Math.min(Math.max(backoff.baseMs, jittered), Math.max(backoff.baseMs, backoff.capMs));
}
