import {
  armTransactionFault,
  disarmTransactionFaults,
  installTransactionFaults,
  readPayState,
  transactionFaultsRaised,
  type TransactionFault,
} from '@pay/reliability';
import { newIdempotencyKey, openBattery, type Battery } from './support/battery.js';
import { describeAnswer, isRetryable, retryUntilFinal } from './support/client.js';
import { figure } from './support/figures.js';
import type { ApiProcess } from './support/processes.js';

/*
 * RELIABILITY.md A7: PostgreSQL fails one of the payment flow's phase transactions with a serialization
 * failure (40001) or a deadlock (40P01), injected by triggers on pay.payments (@pay/reliability's
 * transaction faults; pay's code is untouched). The client gets a retryable answer (or the flow retried
 * by itself), the key is left unlocked, the retry with the same key converges on one intent, K1–K5.
 */

const CASES: readonly (TransactionFault & { readonly phase: string })[] = [
  { phase: 'recording the payment', target: 'payment_insert', sqlstate: '40001', times: 1 },
  { phase: 'recording the intent', target: 'intent_recorded', sqlstate: '40P01', times: 1 },
  { phase: 'recording the outcome', target: 'payment_status_change', sqlstate: '40001', times: 1 },
  {
    phase: 'recording the outcome, three times over',
    target: 'payment_status_change',
    sqlstate: '40P01',
    times: 3,
  },
];

describe('A7: serialization failures and deadlocks in phase transactions', () => {
  let battery: Battery;
  let api: ApiProcess;

  beforeAll(async () => {
    battery = await openBattery('battery_a7');
    await installTransactionFaults(battery.database.url);
    api = await battery.startApi();
  });

  afterEach(async () => {
    await disarmTransactionFaults(battery.database.url);
  });

  afterAll(async () => {
    await api?.stop();
    await battery?.close();
  });

  it.each(CASES)(
    '$sqlstate while $phase: a retryable answer, the key unlocked, one intent',
    async (fault) => {
      const label = `A7 ${fault.sqlstate} ${fault.target}×${fault.times}`;
      const key = newIdempotencyKey(label);
      const body = battery.body();
      const intentsBefore = battery.sandbox.ledger.count('payment_intent');
      await armTransactionFault(battery.database.url, fault);

      const first = await battery.post(api, key, body);
      const afterFirst = await readPayState(battery.database.url);
      const keyRow = afterFirst.idempotencyKeys.find((k) => k.key === key);
      const { final, answers } = await retryUntilFinal(() => battery.post(api, key, body));
      const raised = await transactionFaultsRaised(battery.database.url);
      figure(
        label,
        `answers ${[first, ...answers].map(describeAnswer).join(' → ')}; faults raised ${JSON.stringify(raised)}; ` +
          `key after the first answer: ${keyRow === undefined ? 'not stored' : `${keyRow.recovery_point}${keyRow.locked_at === null ? ', unlocked' : ', LOCKED'}`}`,
      );

      expect({ label, raised: raised[fault.target] }).toEqual({ label, raised: fault.times });
      // The flow may retry the transaction itself (then the first answer is final) or answer a retryable error.
      expect({
        label,
        first: describeAnswer(first),
        ok: first.kind === 'http' && (isRetryable(first) || first.status === 201),
      }).toEqual({
        label,
        first: describeAnswer(first),
        ok: true,
      });
      expect({ label, locked: keyRow?.locked_at ?? null }).toEqual({ label, locked: null });
      expect({ label, final: final.status }).toEqual({ label, final: 201 });
      expect({ label, intents: battery.sandbox.ledger.count('payment_intent') - intentsBefore }).toEqual({
        label,
        intents: 1,
      });
      await battery.recoverAndCheck(label);
    },
  );
});
