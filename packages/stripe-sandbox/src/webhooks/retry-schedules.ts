/*
 * When each delivery attempt is due, as seconds after the first attempt's due time (SANDBOX.md §5.4).
 * Stripe publishes no intervals ("three times over a few hours" in test mode, "up to three days with
 * an exponential back off" live), so these are the sandbox's choices, measured on the sandbox clock.
 */

/** The schedules `WebhookHubOptions.retrySchedule` names. */
export type RetryScheduleName = 'fast' | 'test' | 'live';

const MINUTE = 60;
const HOUR = 60 * MINUTE;

/** Live mode: waits of 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then every 12 h while within 72 h. */
function liveOffsets(): number[] {
  const waits = [5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];
  const offsets = [0];
  let at = 0;
  for (const wait of waits) {
    at += wait;
    offsets.push(at);
  }
  while (at + 12 * HOUR <= 72 * HOUR) {
    at += 12 * HOUR;
    offsets.push(at);
  }
  return offsets;
}

/**
 * Attempt offsets in seconds from the first attempt, first one 0. `fast` (tests): +0, 1 s, 2 s, 4 s;
 * `test`: +0, 1 h, 2 h, 4 h; `live`: +0 then 5 min, 35 min, 2 h 35 min, … up to 72 h. The delivery
 * fails for good after the last one.
 */
export const RETRY_SCHEDULES: Readonly<Record<RetryScheduleName, readonly number[]>> = Object.freeze({
  fast: Object.freeze([0, 1, 2, 4]),
  test: Object.freeze([0, HOUR, 2 * HOUR, 4 * HOUR]),
  live: Object.freeze(liveOffsets()),
});
