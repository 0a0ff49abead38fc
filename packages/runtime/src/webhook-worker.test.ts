import type { Logger, WebhookBatchReport } from '@pay/core';
import { startWebhookWorker, type WebhookWorkerHost } from './webhook-worker.js';

const NOTHING: WebhookBatchReport = { processed: 0, ignored: 0, failed: 0, dead: 0 };

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

/**
 * A host whose inbox is scripted: each pass takes the next step (a report, an error, or a promise the
 * test settles), then finds nothing due; every pass's limit, log line and close hook is kept.
 */
function host(steps: (() => Promise<WebhookBatchReport>)[]) {
  const lines: LogLine[] = [];
  const closeHooks: (() => Promise<void>)[] = [];
  const passTimes: number[] = [];
  const limits: (number | undefined)[] = [];
  const signals: (AbortSignal | undefined)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const logger: Logger = {
    debug: (message, fields) => lines.push({ level: 'debug', message, fields }),
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields) => lines.push({ level: 'error', message, fields }),
    child: () => logger,
  };
  const pay: WebhookWorkerHost = {
    logger,
    onClose: (hook) => closeHooks.push(hook),
    services: {
      webhooks: {
        processDue: async (options) => {
          const step = steps[passTimes.length] ?? (() => Promise.resolve(NOTHING));
          passTimes.push(Date.now());
          limits.push(options?.limit);
          signals.push(options?.signal);
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          try {
            return await step();
          } finally {
            inFlight -= 1;
          }
        },
      },
    },
  };
  return {
    pay,
    lines,
    closeHooks,
    limits,
    signals,
    passes: () => passTimes.length,
    maxInFlight: () => maxInFlight,
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

const busy =
  (processed: number): (() => Promise<WebhookBatchReport>) =>
  () =>
    Promise.resolve({ ...NOTHING, processed });

describe('startWebhookWorker', () => {
  it('drains a backlog pass after pass without waiting, then idles between passes that find nothing', async () => {
    // Three busy passes, then an idle one: with a 60 s idle time, a fourth pass can only come from not
    // waiting after the busy ones.
    const h = host([busy(100), busy(100), busy(3)]);
    const worker = startWebhookWorker(h.pay, { idleMs: 60_000, batchSize: 100 });
    await until(() => h.passes() === 4);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(h.passes()).toBe(4);
    expect(h.limits).toEqual([100, 100, 100, 100]);
    await worker.stop();
  });

  it('looks again after idleMs when nothing was due', async () => {
    const h = host([]);
    const worker = startWebhookWorker(h.pay, { idleMs: 1 });
    await until(() => h.passes() >= 4);
    await worker.stop();
    const stoppedAt = h.passes();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(h.passes()).toBe(stoppedAt);
  });

  it('never starts a pass while one is running', async () => {
    const slow = deferred<WebhookBatchReport>();
    const h = host([() => slow.promise]);
    const worker = startWebhookWorker(h.pay, { idleMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(h.passes()).toBe(1);
    slow.resolve({ ...NOTHING, processed: 1 });
    await until(() => h.passes() >= 3);
    await worker.stop();
    expect(h.maxInFlight()).toBe(1);
  });

  it('logs a failed pass and keeps going', async () => {
    const h = host([() => Promise.reject(new Error('database gone'))]);
    const worker = startWebhookWorker(h.pay, { idleMs: 1 });
    await until(() => h.passes() >= 2);
    await worker.stop();
    expect(h.lines).toContainEqual({
      level: 'error',
      message: expect.stringContaining('webhook pass failed'),
      fields: { error: expect.objectContaining({ message: 'database gone' }) },
    });
  });

  it('warns when a pass sent events to the dead letters, and is quiet otherwise', async () => {
    const h = host([busy(5), () => Promise.resolve({ ...NOTHING, failed: 1, dead: 2 })]);
    const worker = startWebhookWorker(h.pay, { idleMs: 60_000 });
    await until(() => h.passes() >= 3);
    await worker.stop();
    expect(h.lines.filter((l) => l.level !== 'debug')).toEqual([
      {
        level: 'warn',
        message: expect.stringContaining('pay webhook-status --dead'),
        fields: { processed: 0, ignored: 0, failed: 1, dead: 2 },
      },
    ]);
  });

  it('is stopped by closing pay, which waits for the pass in flight', async () => {
    const slow = deferred<WebhookBatchReport>();
    const h = host([() => slow.promise]);
    startWebhookWorker(h.pay, { idleMs: 1 });
    expect(h.closeHooks).toHaveLength(1);
    let closed = false;
    const closing = Promise.all(h.closeHooks.map((hook) => hook())).then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    slow.resolve({ ...NOTHING, processed: 1 });
    await closing;
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The pass found work, yet no further pass started once stopping began.
    expect(h.passes()).toBe(1);
  });

  it('tells the pass in flight to stop claiming events when it is stopped, so a SIGTERM waits for one event, not a batch', async () => {
    const slow = deferred<WebhookBatchReport>();
    const h = host([() => slow.promise]);
    const worker = startWebhookWorker(h.pay, { idleMs: 1 });
    await until(() => h.passes() === 1);
    expect(h.signals[0]?.aborted).toBe(false);
    const stopping = worker.stop();
    expect(h.signals[0]?.aborted).toBe(true);
    slow.resolve({ ...NOTHING, processed: 1 });
    await stopping;
  });

  it('keeps no process alive: its timer is unref’d', async () => {
    const h = host([]);
    const refTimers = (): number => process.getActiveResourcesInfo().filter((t) => t === 'Timeout').length;
    const before = refTimers();
    const worker = startWebhookWorker(h.pay, { idleMs: 60_000 });
    await until(() => h.passes() === 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(refTimers()).toBe(before);
    await worker.stop();
  });
});
