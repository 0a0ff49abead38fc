import { PAYMENT_CRASH_POINTS } from '@pay/core';
import { checkInvariants, formatReport, readPayState } from '@pay/reliability';
import { openBattery, type Battery } from './support/battery.js';
import { describeAnswer } from './support/client.js';
import { clientRetry, crashAtEach, paymentOfKey, waitForStaleLocks, type Crash } from './support/crash.js';
import { figure, since } from './support/figures.js';
import type { ApiProcess } from './support/processes.js';

/*
 * RELIABILITY.md A8 and C1 for the payment flow: the real API process is SIGKILLed at each of the
 * flow's named crash points (PAYMENT_CRASH_POINTS), leaving a key locked at that point's recovery
 * point. A8: once the lock is stale, the client's retry with the same key takes it over and finishes
 * the payment. C1: the API restarts without faults, one `pay recover` pass runs, and the client's retry
 * gets the final answer. Both: one intent and one charge per payment, K1–K5.
 */

/** The final answers every point must end in: the payment (201), the return's redirect (303). */
function expectFinal(crash: Crash, result: Awaited<ReturnType<typeof clientRetry>>): void {
  const got = { point: crash.point, post: describeAnswer(result.post), back: result.back?.status ?? null };
  expect(got).toEqual({ point: crash.point, post: '201 (replayed)', back: crash.threeDSecure ? 303 : null });
}

async function printKeys(battery: Battery, label: string, crashes: readonly Crash[]): Promise<void> {
  const state = await readPayState(battery.database.url);
  for (const crash of crashes) {
    const key = state.idempotencyKeys.find((k) => k.key === crash.key);
    const payment = state.payments.find((p) => p.id === (crash.paymentId ?? key?.resource_id));
    figure(
      label,
      `${crash.point}: key ${key === undefined ? 'absent' : `${key.recovery_point}${key.locked_at === null ? '' : ' (locked)'}`}, ` +
        `payment ${payment?.status ?? 'none'}, killed request got ${describeAnswer(crash.killedAnswer)}`,
    );
  }
}

describe('crashes in the payment flow', () => {
  let battery: Battery;
  let api: ApiProcess | undefined;

  beforeAll(async () => {
    battery = await openBattery('battery_crash');
  });

  afterEach(async () => {
    await api?.stop();
    api = undefined;
  });

  afterAll(async () => {
    await battery?.close();
  });

  it(`A8: a retry takes over a stale lock at each of the ${PAYMENT_CRASH_POINTS.length} crash points`, async () => {
    const started = performance.now();
    const crashes = await crashAtEach(battery, PAYMENT_CRASH_POINTS, 'a8');
    figure('A8', `killed at ${crashes.length} points in ${since(started)} ms`);
    await printKeys(battery, 'A8', crashes);

    api = await battery.startApi();
    // Before the lock is stale, the same key is still taken: 409 with Retry-After (or the stored answer).
    for (const crash of crashes.filter((c) => !c.threeDSecure)) {
      const early = await battery.post(api, crash.key, crash.body);
      figure('A8', `${crash.point}: retry before the lock timeout → ${describeAnswer(early)}`);
      expect({
        point: crash.point,
        early: early.kind === 'http' && (early.status === 409 ? early.retryAfter !== null : early.replayed),
      }).toEqual({
        point: crash.point,
        early: true,
      });
    }
    await waitForStaleLocks('A8', crashes);

    for (const crash of crashes) {
      const result = await clientRetry(battery, api, crash);
      // The first retry after the crash resumes and answers; the test's second POST is the replay.
      expect(result.answers.filter((a) => a.kind === 'network' || a.status >= 500)).toEqual([]);
      const again = await battery.post(api, crash.key, crash.body);
      expectFinal(crash, { ...result, post: again.kind === 'http' ? again : result.post });
    }
    const report = await checkInvariants(battery.ctx);
    figure('A8', `after the retries alone: ${formatReport(report)}`);
    expect(report.violations).toEqual([]);
    await battery.recoverAndCheck('A8');
    figure('A8', `whole matrix: ${since(started)} ms`);
  });

  it(`C1: one \`pay recover\` pass finishes what each of the ${PAYMENT_CRASH_POINTS.length} crash points left`, async () => {
    const started = performance.now();
    const crashes = await crashAtEach(battery, PAYMENT_CRASH_POINTS, 'c1');
    figure('C1', `killed at ${crashes.length} points in ${since(started)} ms`);
    await printKeys(battery, 'C1', crashes);
    await waitForStaleLocks('C1', crashes);

    api = await battery.startApi();
    const recoverStarted = performance.now();
    const { report: recovery } = await battery.recover();
    figure('C1', `one pay recover pass in ${since(recoverStarted)} ms: ${JSON.stringify(recovery)}`);
    expect(recovery.failures).toEqual([]);
    await printKeys(battery, 'C1 after recovery', crashes);
    // One recovery pass and no client yet: K1–K5 already hold.
    const afterRecovery = await checkInvariants(battery.ctx);
    figure('C1', `after one recovery pass: ${formatReport(afterRecovery)}`);
    expect(afterRecovery.violations).toEqual([]);

    for (const crash of crashes) {
      crash.paymentId ??= await paymentOfKey(battery, crash.key);
      const result = await clientRetry(battery, api, crash);
      expect(result.answers.filter((a) => a.kind === 'network' || a.status >= 500)).toEqual([]);
      expectFinal(crash, result);
    }
    await battery.recoverAndCheck('C1');
    figure('C1', `whole matrix (kill, wait out the lock, recover, retry, check): ${since(started)} ms`);
  });
});
