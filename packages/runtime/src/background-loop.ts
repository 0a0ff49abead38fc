import type { Pay } from './create-pay.js';

/** A loop running in the background of a process. */
export interface BackgroundLoop {
  /** Cancels the next pass and resolves once the one in flight, if any, has ended. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` now, then again after the delay each pass resolves to, until stopped: passes never
 * overlap. `pass` must not reject (each loop logs its own failures and says when to try again). Timers
 * are unref'd, so a loop alone keeps no process alive; `pay.close()` stops it, waiting for the pass in
 * flight, before the database closes. `signal` is aborted when the loop is stopped: a pass working
 * through a batch stops taking new items, so stopping waits for one item, not the whole batch.
 */
export function startBackgroundLoop(
  pay: Pick<Pay, 'onClose'>,
  pass: (signal: AbortSignal) => Promise<number>,
): BackgroundLoop {
  const stopSignal = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const tick = (): void => {
    timer = undefined;
    running = pass(stopSignal.signal).then((delayMs) => {
      running = undefined;
      if (!stopped) {
        timer = setTimeout(tick, delayMs);
        timer.unref();
      }
    });
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      stopped = true;
      stopSignal.abort();
      clearTimeout(timer);
      await running;
    })());

  pay.onClose(stop);
  tick();
  return { stop };
}
