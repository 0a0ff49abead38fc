import type { CatchUpReport, Logger, RecoveryReport } from '@pay/core';
import { startRecoveryLoop, type RecoveryLoopHost } from './recovery-loop.js';

const EMPTY: RecoveryReport = { keysResumed: 0, paymentsResolved: 0, keysReaped: 0, failures: [] };

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

/**
 * A host whose recovery is scripted: each pass takes the next step (a report, an error, or a promise
 * the test settles), and every log line and close hook is kept.
 */
function host(
  steps: (() => Promise<RecoveryReport>)[],
  catchUp: () => Promise<CatchUpReport> = () => Promise.resolve({ listed: 0, stored: 0, alreadyKnown: 0 }),
) {
  const lines: LogLine[] = [];
  const closeHooks: (() => Promise<void>)[] = [];
  let passes = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let refundPasses = 0;
  let catchUps = 0;
  const logger: Logger = {
    debug: (message, fields) => lines.push({ level: 'debug', message, fields }),
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields) => lines.push({ level: 'error', message, fields }),
    child: () => logger,
  };
  const pay: RecoveryLoopHost = {
    logger,
    onClose: (hook) => closeHooks.push(hook),
    services: {
      payments: {
        recover: async () => {
          const step = steps[passes] ?? (() => Promise.resolve(EMPTY));
          passes += 1;
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          try {
            return await step();
          } finally {
            inFlight -= 1;
          }
        },
      },
      refunds: {
        recover: () => {
          refundPasses += 1;
          return Promise.resolve({ keysResumed: 0, refundsResolved: 0, failures: [] });
        },
      },
      webhooks: {
        catchUp: () => {
          catchUps += 1;
          return catchUp();
        },
      },
    },
  };
  return {
    pay,
    lines,
    closeHooks,
    passes: () => passes,
    maxInFlight: () => maxInFlight,
    refundPasses: () => refundPasses,
    catchUps: () => catchUps,
  };
}

/** Resolves once `predicate` holds; a hang guard, never a timing assertion. */
async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !predicate(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(predicate()).toBe(true);
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('startRecoveryLoop', () => {
  it('runs a pass at once and then again after each interval', async () => {
    const h = host([]);
    const loop = startRecoveryLoop(h.pay, { intervalMs: 1 });
    expect(h.passes()).toBe(1);
    await until(() => h.passes() >= 4);
    await loop.stop();
    // Every pass recovers refunds as well as payments, and catches up on undelivered webhooks.
    expect(h.refundPasses()).toBe(h.passes());
    expect(h.catchUps()).toBe(h.passes());
    const stoppedAt = h.passes();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(h.passes()).toBe(stoppedAt);
  });

  it('never starts a pass while one is running', async () => {
    const slow = deferred<RecoveryReport>();
    const h = host([() => slow.promise]);
    const loop = startRecoveryLoop(h.pay, { intervalMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(h.passes()).toBe(1);
    slow.resolve(EMPTY);
    await until(() => h.passes() >= 3);
    await loop.stop();
    expect(h.maxInFlight()).toBe(1);
  });

  it('logs a failed pass and keeps going', async () => {
    const h = host([() => Promise.reject(new Error('database gone'))]);
    const loop = startRecoveryLoop(h.pay, { intervalMs: 1 });
    await until(() => h.passes() >= 2);
    await loop.stop();
    expect(h.lines).toContainEqual({
      level: 'error',
      message: expect.stringContaining('recovery pass failed'),
      fields: { error: expect.objectContaining({ message: 'database gone' }) },
    });
  });

  it('logs a failed webhook catch-up and still runs the next pass', async () => {
    const h = host([], () => Promise.reject(new Error('Stripe unreachable')));
    const loop = startRecoveryLoop(h.pay, { intervalMs: 1 });
    await until(() => h.passes() >= 2);
    await loop.stop();
    expect(h.lines).toContainEqual({
      level: 'error',
      message: expect.stringContaining('webhook catch-up failed'),
      fields: { error: expect.objectContaining({ message: 'Stripe unreachable' }) },
    });
  });

  it('logs what a pass did, and each object it could not finish', async () => {
    const report: RecoveryReport = {
      keysResumed: 1,
      paymentsResolved: 2,
      keysReaped: 3,
      failures: [{ id: 'pay_x', error: 'Stripe unreachable' }],
    };
    const h = host([() => Promise.resolve(report)]);
    const loop = startRecoveryLoop(h.pay, { intervalMs: 60_000 });
    await until(() => h.lines.some((l) => l.level === 'warn'));
    await loop.stop();
    expect(h.lines.filter((l) => l.level !== 'debug')).toEqual([
      {
        level: 'info',
        message: 'recovery pass',
        fields: { keysResumed: 1, paymentsResolved: 2, keysReaped: 3, failures: 1 },
      },
      {
        level: 'warn',
        message: expect.stringContaining('could not finish'),
        fields: { id: 'pay_x', error: 'Stripe unreachable' },
      },
    ]);
  });

  it('is stopped by closing pay, which waits for the pass in flight', async () => {
    const slow = deferred<RecoveryReport>();
    const h = host([() => slow.promise]);
    startRecoveryLoop(h.pay, { intervalMs: 1 });
    expect(h.closeHooks).toHaveLength(1);
    let closed = false;
    const closing = Promise.all(h.closeHooks.map((hook) => hook())).then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    slow.resolve(EMPTY);
    await closing;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.passes()).toBe(1);
  });

  it('keeps no process alive: its timer is unref’d', async () => {
    const h = host([]);
    const refTimers = (): number => process.getActiveResourcesInfo().filter((t) => t === 'Timeout').length;
    const before = refTimers();
    const loop = startRecoveryLoop(h.pay, { intervalMs: 60_000 });
    // The pass's last step (the webhook catch-up) has run; once it has settled, the next pass is
    // scheduled, 60 s away, on an unref'd timer.
    await until(() => h.catchUps() >= 1);
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(refTimers()).toBe(before);
    await loop.stop();
  });
});
