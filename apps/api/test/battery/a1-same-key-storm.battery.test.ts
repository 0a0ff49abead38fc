import { readPayState } from '@pay/reliability';
import { openBattery, newIdempotencyKey, type Battery } from './support/battery.js';
import { describeAnswer, retryUntilFinal, type Answer } from './support/client.js';
import { figure, NIGHTLY, seededRandom, seedOf, since, tally } from './support/figures.js';
import type { ApiProcess } from './support/processes.js';

/*
 * RELIABILITY.md A1, "storm, same key": 200 concurrent POST /payments with one Idempotency-Key and one
 * body, against the real API process on PostgreSQL. One payment, one key, one PaymentIntent; every
 * answer the original or a 409 to retry; never a 5xx.
 */

const CONCURRENCY = 200;
const ITERATIONS = NIGHTLY ? 20 : 5;
const MAX_JITTER_MS = 1_000;
const CREATE_PATH = '/v1/payment_intents';
const CONFIRM_ROUTE = '/v1/payment_intents/:intent/confirm';

describe('A1: a storm of one request under one key', () => {
  let battery: Battery;
  let api: ApiProcess;

  beforeAll(async () => {
    battery = await openBattery('battery_a1');
    api = await battery.startApi();
  });

  afterAll(async () => {
    await api?.stop();
    await battery?.close();
  });

  it(`charges once per key: ${ITERATIONS} storms of ${CONCURRENCY} concurrent requests`, async () => {
    const seed = seedOf();
    const random = seededRandom(seed);
    figure(
      'A1',
      `SEED=${seed}, ${ITERATIONS} iterations × ${CONCURRENCY} requests, jitter ≤ ${MAX_JITTER_MS} ms`,
    );

    for (let iteration = 1; iteration <= ITERATIONS; iteration++) {
      const key = newIdempotencyKey(`a1-${iteration}`);
      const body = battery.body();
      const before = await readPayState(battery.database.url);
      const requestsBefore = battery.sandbox.requests().length;
      const intentsBefore = battery.sandbox.ledger.count('payment_intent');

      const started = performance.now();
      const answers: Answer[] = await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          await new Promise((resolve) => setTimeout(resolve, random() * MAX_JITTER_MS));
          return battery.post(api, key, body);
        }),
      );
      const stormMs = since(started);

      const http = answers.flatMap((a) => (a.kind === 'http' ? [a] : []));
      const serverErrors = answers.filter((a) => a.kind === 'network' || a.status >= 500);
      const successes = http.filter((a) => a.status >= 200 && a.status < 300);
      const originals = successes.filter((a) => !a.replayed);
      const conflicts = http.filter((a) => a.status === 409);
      const others = http.filter((a) => !(a.status >= 200 && a.status < 300) && a.status !== 409);

      // The client's retry after the storm: the stored answer, byte for byte.
      const { final, answers: retries } = await retryUntilFinal(() => battery.post(api, key, body));

      const newRequests = battery.sandbox.requests().slice(requestsBefore);
      const creates = newRequests.filter((r) => r.method === 'POST' && r.path === CREATE_PATH);
      const confirms = newRequests.filter((r) => r.method === 'POST' && r.route === CONFIRM_ROUTE);
      const after = await readPayState(battery.database.url);
      const newPayments = after.payments.filter((p) => !before.payments.some((b) => b.id === p.id));
      const keyRows = after.idempotencyKeys.filter((k) => k.key === key);

      figure(
        'A1',
        `iteration ${iteration}: storm ${stormMs} ms; answers ${tally(answers.map(describeAnswer))}; ` +
          `sandbox: ${creates.length} intent create(s), ${confirms.length} confirm(s), ` +
          `${battery.sandbox.ledger.count('payment_intent') - intentsBefore} new intent(s); ` +
          `db: ${newPayments.length} payment row(s), ${keyRows.length} key row(s); final retry ${describeAnswer(final)}`,
      );

      const context = { iteration, answers: tally(answers.map(describeAnswer)) };
      expect({ ...context, serverErrors: serverErrors.map(describeAnswer) }).toEqual({
        ...context,
        serverErrors: [],
      });
      expect({ ...context, others: others.map((a) => `${describeAnswer(a)} ${a.body}`) }).toEqual({
        ...context,
        others: [],
      });
      expect({ ...context, originals: originals.length }).toEqual({ ...context, originals: 1 });
      const original = originals[0];
      if (original === undefined) {
        throw new Error('no original answer');
      }
      for (const answer of successes) {
        expect({ status: answer.status, body: answer.body }).toEqual({
          status: original.status,
          body: original.body,
        });
      }
      for (const conflict of conflicts) {
        expect({ code: conflict.code, retryAfter: conflict.retryAfter !== null }).toEqual({
          code: 'idempotency_key_in_use',
          retryAfter: true,
        });
      }
      expect({ status: final.status, body: final.body, replayed: final.replayed }).toEqual({
        status: original.status,
        body: original.body,
        replayed: true,
      });
      expect(retries.filter((a) => a.kind === 'network' || a.status >= 500)).toEqual([]);

      expect({
        creates: creates.length,
        confirmsAtMostOne: confirms.length <= 1,
        payments: newPayments.length,
        keys: keyRows.length,
      }).toEqual({ creates: 1, confirmsAtMostOne: true, payments: 1, keys: 1 });
    }

    await battery.recoverAndCheck('A1');
  });
});
