import { DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS, type PAYMENT_CRASH_POINTS } from '@pay/core';
import { readPayState } from '@pay/reliability';
import { newIdempotencyKey, type Battery } from './battery.js';
import {
  describeAnswer,
  getReturn,
  retryUntilFinal,
  type Answer,
  type HttpAnswer,
  type PaymentBody,
} from './client.js';
import { figure, since } from './figures.js';
import type { ApiProcess, Exit } from './processes.js';

/*
 * Kills the real API process at a named crash point (`PAY_FAULTS`, honoured under NODE_ENV=test only)
 * in the middle of a payment, then drives what is left to its end as a client would. The 3-D Secure
 * return's points are reached on the card holder's return (`GET /payments/:id/return`) after a
 * challenge passed in the sandbox; every other point on the first `POST /payments` of a new end user.
 */

/** One of the payment flow's named crash points. */
export type PaymentCrashPoint = (typeof PAYMENT_CRASH_POINTS)[number];

/** Points reached only when pay reads an intent back: the 3-D Secure return (and recovery). */
const RETURN_POINTS: ReadonlySet<PaymentCrashPoint> = new Set([
  'payment.before_retrieve_intent',
  'payment.after_retrieve_intent_before_commit',
]);

const HANG_GUARD_MS = 60_000;

/** One payment whose API process was killed at `point`. */
export interface Crash {
  readonly point: PaymentCrashPoint;
  readonly key: string;
  readonly body: PaymentBody;
  /** The 3-D Secure return flow (the card holder comes back) rather than the create. */
  readonly threeDSecure: boolean;
  /** Known when the create answered before the crash (3-D Secure) or recorded it; else found later. */
  paymentId: string | null;
  /** The answer the killed request got: a network error, as the process died under it. */
  readonly killedAnswer: Answer;
  readonly exit: Exit;
  /** `performance.now()` when the process was seen dead. */
  readonly diedAt: number;
}

/** Resolves or rejects as `promise` does, or rejects once the hang guard passes. */
export function withGuard<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what}: no end within ${HANG_GUARD_MS} ms`)),
      HANG_GUARD_MS,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function paymentIdOfBody(answer: Answer): string | null {
  if (answer.kind !== 'http') {
    return null;
  }
  try {
    const parsed = JSON.parse(answer.body) as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : null;
  } catch {
    return null;
  }
}

/** The payment an idempotency key made, from the database (null when the key or its payment is not there). */
export async function paymentOfKey(battery: Battery, key: string): Promise<string | null> {
  const state = await readPayState(battery.database.url);
  return state.idempotencyKeys.find((k) => k.key === key)?.resource_id ?? null;
}

/**
 * Starts an API armed with `point`, runs the flow that reaches it, and waits for the process to die.
 * Throws (with the process's output) when it did not die there: a point the flow never reaches is a
 * hole in the matrix, not a pass.
 */
export async function crashAt(battery: Battery, point: PaymentCrashPoint, label: string): Promise<Crash> {
  const threeDSecure = RETURN_POINTS.has(point);
  const body = battery.body(
    threeDSecure
      ? { payment_method_id: 'pm_card_threeDSecure2Required', return_url: 'https://shop.example/return' }
      : {},
  );
  const key = newIdempotencyKey(`${label}-${point}`);
  const api: ApiProcess = await battery.startApi({ PAY_FAULTS: point });
  try {
    let paymentId: string | null = null;
    let killedAnswer: Answer;
    if (threeDSecure) {
      const created = await battery.post(api, key, body);
      paymentId = paymentIdOfBody(created);
      const state = await readPayState(battery.database.url);
      const intentId = state.payments.find((p) => p.id === paymentId)?.stripe_payment_intent_id ?? null;
      if (created.kind !== 'http' || created.status !== 201 || paymentId === null || intentId === null) {
        throw new Error(`${point}: the 3-D Secure payment did not start: ${describeAnswer(created)}`);
      }
      battery.sandbox.authenticate(intentId, 'succeed');
      killedAnswer = await getReturn(api.url, paymentId);
    } else {
      killedAnswer = await battery.post(api, key, body);
    }
    const exit = await withGuard(api.exited, `${point}: the armed API`);
    const diedAt = performance.now();
    if (exit.signal !== 'SIGKILL' || !api.output().includes(`crash point ${point} reached`)) {
      throw new Error(
        `${point}: the API did not die there (${JSON.stringify(exit)}, answer ${describeAnswer(killedAnswer)}):\n${api.output()}`,
      );
    }
    paymentId ??= await paymentOfKey(battery, key);
    return { point, key, body, threeDSecure, paymentId, killedAnswer, exit, diedAt };
  } finally {
    if (api.child.exitCode === null && api.child.signalCode === null) {
      await api.stop();
    }
  }
}

/** Crashes at every point, `concurrency` armed processes at a time; resolves in the points' order. */
export async function crashAtEach(
  battery: Battery,
  points: readonly PaymentCrashPoint[],
  label: string,
  concurrency = 4,
): Promise<Crash[]> {
  const results: Crash[] = new Array<Crash>(points.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < points.length) {
      const i = next++;
      const point = points[i];
      if (point !== undefined) {
        results[i] = await crashAt(battery, point, label);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, points.length) }, worker));
  return results;
}

/**
 * Waits until every lock the crashes left is stale (pay's lock timeout after the last death, plus a
 * margin): until then a retry is told 409 and recovery leaves the key alone, as they must.
 */
export async function waitForStaleLocks(
  label: string,
  crashes: readonly Pick<Crash, 'diedAt'>[],
): Promise<void> {
  const lastDeath = Math.max(...crashes.map((c) => c.diedAt));
  const waitMs = Math.max(0, lastDeath + DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS + 2_000 - performance.now());
  figure(
    label,
    `waiting ${Math.round(waitMs / 1000)} s for the lock timeout (${DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS / 1000} s) to pass`,
  );
  await new Promise((resolve) => setTimeout(resolve, waitMs));
}

/**
 * The client's retry after a crash: `POST` again with the same key (the card holder's return again
 * first, for the 3-D Secure points). Resolves to the final answers; hang-guarded.
 */
export async function clientRetry(
  battery: Battery,
  api: ApiProcess,
  crash: Crash,
): Promise<{ post: HttpAnswer; back: HttpAnswer | null; answers: Answer[] }> {
  const started = performance.now();
  let back: HttpAnswer | null = null;
  const answers: Answer[] = [];
  if (crash.threeDSecure && crash.paymentId !== null) {
    const paymentId = crash.paymentId;
    const returned = await retryUntilFinal(() => getReturn(api.url, paymentId));
    back = returned.final;
    answers.push(...returned.answers);
  }
  const posted = await retryUntilFinal(() => battery.post(api, crash.key, crash.body));
  answers.push(...posted.answers);
  figure(crash.point, `client retry in ${since(started)} ms: ${answers.map(describeAnswer).join(' → ')}`);
  return { post: posted.final, back, answers };
}
