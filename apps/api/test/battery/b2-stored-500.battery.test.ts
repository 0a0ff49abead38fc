import { readPayState } from '@pay/reliability';
import { createPay, loadConfig } from '@pay/runtime';
import { openBattery, type Battery } from './support/battery.js';
import { describeAnswer, retryUntilFinal } from './support/client.js';
import {
  CONFIRM_INTENT,
  CREATE_INTENT,
  runFaultCase,
  stripeKeysOf,
  type FaultCaseResult,
} from './support/fault-case.js';
import { figure } from './support/figures.js';
import type { ApiProcess } from './support/processes.js';

/*
 * RELIABILITY.md B2: Stripe executes the call, stores a 500 under pay's idempotency key and answers it
 * (`Stripe-Should-Retry: false`), so every retry under that key gets the same 500 for 24 h. pay must not
 * retry it at once, must never call the payment failed, and must never send the call again under a new
 * key; recovery resolves it by reading Stripe (GET, or the intents' metadata once Stripe's key window
 * has passed). The passage of time is pay's own clock handed to one recovery pass (`recover({ now })`),
 * run in this process; every other step is the real API and the real `pay recover`.
 */

const MAX_NETWORK_RETRIES = 2;
const LOCK_TIMEOUT_MS = 60_000;
const DAY_MS = 24 * 60 * 60 * 1000;

describe('B2: Stripe stores a 500 under pay’s key', () => {
  let battery: Battery;
  let api: ApiProcess;
  let onCreate: FaultCaseResult;
  let onConfirm: FaultCaseResult;

  /** One recovery pass of a pay in this process whose clock reads `Date.now() + aheadMs`. */
  async function recoverAhead(aheadMs: number) {
    const pay = await createPay(loadConfig(battery.env({ PAY_LOG_LEVEL: 'error' })), { role: 'cli' });
    try {
      return await pay.services.payments.recover({ now: new Date(Date.now() + aheadMs) });
    } finally {
      await pay.close();
    }
  }

  async function statusOf(paymentId: string | null) {
    const state = await readPayState(battery.database.url);
    return state.payments.find((p) => p.id === paymentId) ?? null;
  }

  beforeAll(async () => {
    battery = await openBattery('battery_b2');
    api = await battery.startApi({ PAY_STRIPE_MAX_NETWORK_RETRIES: String(MAX_NETWORK_RETRIES) });
  });

  afterAll(async () => {
    await api?.stop();
    await battery?.close();
  });

  it('answers 503 and keeps the payment pending, calling Stripe once per attempt under one key', async () => {
    onCreate = await runFaultCase(
      battery,
      api,
      'B2 create',
      [{ kind: 'error_after', match: CREATE_INTENT, times: 1 }],
      3,
    );
    onConfirm = await runFaultCase(
      battery,
      api,
      'B2 confirm',
      [{ kind: 'error_after', match: CONFIRM_INTENT, times: 1 }],
      3,
    );
    for (const [label, r, calls] of [
      ['B2 create', onCreate, onCreate.creates],
      ['B2 confirm', onConfirm, onConfirm.confirms],
    ] as const) {
      const answers = r.answers.map(describeAnswer);
      expect({ label, answers }).toEqual({
        label,
        answers: answers.map(() => '503 (dependency_unavailable)'),
      });
      // Stripe-Should-Retry: false: one call per client attempt, never an immediate retry.
      expect({ label, calls: calls.length, attempts: r.answers.length }).toEqual({
        label,
        calls: r.answers.length,
        attempts: r.answers.length,
      });
      expect({ label, keys: stripeKeysOf(calls).length }).toEqual({ label, keys: 1 });
      expect({ label, status: (await statusOf(r.paymentId))?.status }).toEqual({ label, status: 'pending' });
    }
    // The charge happened at Stripe: the confirmed intent succeeded, whatever the 500 said.
    const confirmed = await statusOf(onConfirm.paymentId);
    const intent = battery.sandbox.ledger
      .objects({ kind: 'payment_intent' })
      .find((o) => o.id === confirmed?.stripe_payment_intent_id);
    expect(intent).toBeDefined();
  });

  it('`pay recover` at once cannot learn more than the 500, and fails nothing', async () => {
    const { report } = await battery.recover();
    figure('B2', `pay recover right away: ${JSON.stringify(report)}`);
    expect((await statusOf(onCreate.paymentId))?.status).toBe('pending');
    expect((await statusOf(onConfirm.paymentId))?.status).toBe('pending');
  });

  it('past the lock timeout, recovery reads the confirmed intent and the client gets its answer', async () => {
    const report = await recoverAhead(LOCK_TIMEOUT_MS + 1_000);
    figure('B2', `recovery one lock timeout later: ${JSON.stringify(report)}`);
    expect((await statusOf(onConfirm.paymentId))?.status).toBe('succeeded');
    const { final, answers } = await retryUntilFinal(() => battery.post(api, onConfirm.key, onConfirm.body));
    figure('B2 confirm', `client retry after recovery: ${answers.map(describeAnswer).join(' → ')}`);
    expect(final.status).toBe(201);
    // The create's intent was never confirmed: within Stripe's key window it waits for its key.
    expect((await statusOf(onCreate.paymentId))?.status).toBe('pending');
  });

  it('past Stripe’s 24 h key window, recovery finds the created intent by its metadata and cancels it', async () => {
    const requestsBefore = battery.sandbox.requests().length;
    const report = await recoverAhead(DAY_MS + 60 * 60 * 1000);
    const calls = battery.sandbox.requests().slice(requestsBefore);
    figure(
      'B2',
      `recovery 25 h later: ${JSON.stringify(report)}; Stripe calls: ${calls.map((c) => `${c.method} ${c.route ?? c.path} ${c.status}`).join(', ')}`,
    );
    const payment = await statusOf(onCreate.paymentId);
    expect(payment?.status).toBe('canceled');
    // Never a create under a new key: the intent was found by a list, then canceled.
    expect(calls.filter((c) => c.method === 'POST' && c.path === CREATE_INTENT.path)).toEqual([]);
    expect(
      battery.sandbox.ledger
        .objects({ kind: 'payment_intent' })
        .filter((o) => o.id === payment?.stripe_payment_intent_id),
    ).toHaveLength(1);
  });

  it('K1–K5 hold after `pay recover`', async () => {
    await battery.recoverAndCheck('B2');
  });
});
