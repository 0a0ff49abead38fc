import { readPayState } from '@pay/reliability';
import { openBattery, type Battery } from './support/battery.js';
import { describeAnswer } from './support/client.js';
import {
  CONFIRM_INTENT,
  CREATE_INTENT,
  runFaultCase,
  stripeKeysOf,
  type FaultCaseResult,
  type SandboxFault,
} from './support/fault-case.js';
import { figure } from './support/figures.js';
import type { ApiProcess } from './support/processes.js';

/*
 * RELIABILITY.md B1, B3, B4: faults at the gateway boundary, injected by the sandbox between pay's real
 * API process and its answers. For each: the client gets a final answer on retry (or 503s, then one),
 * the sandbox holds one PaymentIntent for the payment, no call ever goes out under a new Stripe key, and
 * K1–K5 hold after `pay recover`. B2 (a stored 500) is in b2-stored-500.battery.test.ts.
 */

const MAX_NETWORK_RETRIES = 2;
const TIMEOUT_MS = 300;

/** The checks every case shares: a final 201, no 5xx but 503, one intent, one Stripe key per call. */
async function expectConverged(battery: Battery, label: string, r: FaultCaseResult): Promise<void> {
  const answers = r.answers.map((a) =>
    a.kind === 'http' && a.status >= 400 ? `${describeAnswer(a)} ${a.body}` : describeAnswer(a),
  );
  const unexpected = r.answers.filter((a) => a.kind === 'network' || (a.status >= 500 && a.status !== 503));
  expect({ label, answers, unexpected: unexpected.map(describeAnswer) }).toEqual({
    label,
    answers,
    unexpected: [],
  });
  expect({ label, answers, final: r.final?.status ?? null }).toEqual({ label, answers, final: 201 });
  const state = await readPayState(battery.database.url);
  const payment = state.payments.find((p) => p.id === r.paymentId);
  expect({ label, status: payment?.status }).toEqual({ label, status: 'succeeded' });
  const intents = battery.sandbox.ledger
    .objects({ kind: 'payment_intent' })
    .filter((o) => o.id === payment?.stripe_payment_intent_id);
  expect({ label, intents: intents.length }).toEqual({ label, intents: 1 });
  // Every attempt at one call carried the same Stripe key: no call ever went out under a new one.
  expect({
    label,
    createKeys: stripeKeysOf(r.creates).length,
    confirmKeys: stripeKeysOf(r.confirms).length,
  }).toEqual({
    label,
    createKeys: 1,
    confirmKeys: 1,
  });
}

describe('B: faults at the gateway boundary', () => {
  let battery: Battery;
  let api: ApiProcess;

  beforeAll(async () => {
    battery = await openBattery('battery_b');
    api = await battery.startApi({ PAY_STRIPE_MAX_NETWORK_RETRIES: String(MAX_NETWORK_RETRIES) });
  });

  afterAll(async () => {
    await api?.stop();
    await battery?.close();
  });

  afterEach(async () => {
    await battery.recoverAndCheck(expect.getState().currentTestName ?? 'B');
  });

  describe('B1: Stripe commits, then the connection drops before the answer', () => {
    it.each([
      ['create', CREATE_INTENT],
      ['confirm', CONFIRM_INTENT],
    ] as const)('on %s: the same Stripe key is sent again and replayed; one intent', async (call, match) => {
      const label = `B1 ${call}`;
      const r = await runFaultCase(battery, api, label, [{ kind: 'drop_after_commit', match, times: 1 }]);
      await expectConverged(battery, label, r);
      const calls = call === 'create' ? r.creates : r.confirms;
      // The dropped call and its replay: Stripe executed once.
      expect(calls.map((c) => ({ replayed: c.replayed, faults: c.faults }))).toEqual(
        expect.arrayContaining([
          { replayed: false, faults: ['drop_after_commit'] },
          { replayed: true, faults: [] },
        ]),
      );
    });
  });

  describe('B3: Stripe errors pay may or may not retry', () => {
    // Stripe says a retry can help a lock_timeout (Stripe-Should-Retry: true) and a 5xx; a plain 429
    // carries no such header and is not retried at once. A 500 with Stripe-Should-Retry: false is B2's
    // (b2-stored-500), and a 409 for a call still in flight is B4's.
    const cases: readonly [string, SandboxFault, 'retried' | 'not retried'][] = [
      [
        '429 lock_timeout',
        { kind: 'error_before', status: 429, code: 'lock_timeout', match: CREATE_INTENT },
        'retried',
      ],
      ['503', { kind: 'error_before', status: 503, match: CREATE_INTENT }, 'retried'],
      ['429 rate_limit', { kind: 'error_before', status: 429, match: CREATE_INTENT }, 'not retried'],
    ];

    it.each(cases)('%s: attempts stay within the configured maximum', async (name, fault, expected) => {
      const label = `B3 ${name}`;
      const r = await runFaultCase(battery, api, label, [fault]);
      const attempts = r.duringFault.filter((q) => q.faults.includes('error_before')).length;
      figure(
        label,
        `${attempts} attempt(s) of the faulted call (max ${1 + MAX_NETWORK_RETRIES}), expected ${expected}`,
      );
      expect({ label, first: describeAnswer(r.first) }).toEqual({
        label,
        first: expect.stringMatching(/^(503|429)/),
      });
      expect({ label, attempts }).toEqual({
        label,
        attempts: expected === 'retried' ? 1 + MAX_NETWORK_RETRIES : 1,
      });
      await expectConverged(battery, label, r);
    });
  });

  describe('B4: Stripe answers after pay gave up waiting', () => {
    let slowApi: ApiProcess;

    beforeAll(async () => {
      slowApi = await battery.startApi({
        PAY_STRIPE_MAX_NETWORK_RETRIES: String(MAX_NETWORK_RETRIES),
        PAY_STRIPE_TIMEOUT_MS: String(TIMEOUT_MS),
      });
    });

    afterAll(async () => {
      await slowApi?.stop();
    });

    it.each([
      ['create', CREATE_INTENT],
      ['confirm', CONFIRM_INTENT],
    ] as const)('on %s: treated as unknown, retried under the same key, one intent', async (call, match) => {
      const label = `B4 ${call}`;
      const r = await runFaultCase(
        battery,
        slowApi,
        label,
        [{ kind: 'delay', ms: TIMEOUT_MS * 5, match, times: 1 }],
        50,
      );
      await expectConverged(battery, label, r);
      const calls = call === 'create' ? r.creates : r.confirms;
      figure(
        label,
        `${calls.length} attempt(s) of the slow call: ${calls.map((c) => `${c.status}${c.replayed ? 'r' : ''}`).join(' ')}`,
      );
      // Stripe executed it once: every other attempt was refused in flight (409) or replayed.
      expect(calls.filter((c) => c.status === 200 && !c.replayed)).toHaveLength(1);
    });
  });
});
