import { REFUND_CRASH_POINTS, type RefundCrashPoint } from '@pay/core';
import { checkInvariants, formatReport, readPayState } from '@pay/reliability';
import { newIdempotencyKey, openBattery, type Battery } from './support/battery.js';
import { describeAnswer, retryUntilFinal, type Answer } from './support/client.js';
import { waitForStaleLocks, withGuard } from './support/crash.js';
import { figure, since } from './support/figures.js';
import { runCli, type ApiProcess, type Exit } from './support/processes.js';
import {
  issueApiKeys,
  paidPayment,
  postRefund,
  refundedSides,
  refundOf,
  type IssuedKey,
  type RefundBody,
} from './support/refunds.js';

/*
 * RELIABILITY.md C1 for the refund flow: the real API process is SIGKILLed at each of the refund flow's
 * named crash points (REFUND_CRASH_POINTS) in the middle of an admin's `POST /refunds`. Then the API
 * restarts without faults, one `pay worker --once` pass runs (its recovery pass takes refunds: `pay
 * recover` recovers payments only), and the client's retry with the same key gets the final answer.
 * Each request makes one refund in the sandbox, and K1–K5 hold.
 */

const AMOUNT = 700;

/** One refund request whose API process was killed at `point`. */
interface RefundCrash {
  readonly point: RefundCrashPoint;
  readonly paymentId: string;
  readonly key: string;
  readonly body: RefundBody;
  readonly killedAnswer: Answer;
  readonly exit: Exit;
  readonly diedAt: number;
}

/** Starts an API armed with `point`, sends the refund, and waits for the process to die there. */
async function crashRefundAt(
  battery: Battery,
  admin: IssuedKey,
  point: RefundCrashPoint,
  paymentId: string,
): Promise<RefundCrash> {
  const key = newIdempotencyKey(`c1-refund-${point}`);
  const body: RefundBody = { payment_id: paymentId, amount: AMOUNT, reason: `c1 ${point}` };
  const api: ApiProcess = await battery.startApi({ PAY_FAULTS: point });
  try {
    const killedAnswer = await postRefund(api, admin.secret, key, body);
    const exit = await withGuard(api.exited, `${point}: the armed API`);
    const diedAt = performance.now();
    if (exit.signal !== 'SIGKILL' || !api.output().includes(`crash point ${point} reached`)) {
      throw new Error(
        `${point}: the API did not die there (${JSON.stringify(exit)}, answer ${describeAnswer(killedAnswer)}):\n${api.output()}`,
      );
    }
    return { point, paymentId, key, body, killedAnswer, exit, diedAt };
  } finally {
    if (api.child.exitCode === null && api.child.signalCode === null) {
      await api.stop();
    }
  }
}

async function printCrashes(battery: Battery, label: string, crashes: readonly RefundCrash[]): Promise<void> {
  const state = await readPayState(battery.database.url);
  for (const crash of crashes) {
    const key = state.idempotencyKeys.find((k) => k.key === crash.key);
    const sides = await refundedSides(battery, crash.paymentId);
    figure(
      label,
      `${crash.point}: key ${key === undefined ? 'absent' : `${key.recovery_point}${key.locked_at === null ? '' : ' (locked)'}`}, ` +
        `pay refunds ${JSON.stringify(sides.pay.refunds.map((r) => `${r.status} ${r.amount}`))}, ` +
        `sandbox refunds ${JSON.stringify(sides.sandbox.refunds.map((r) => `${r.status} ${r.amount}`))}, ` +
        `killed request got ${describeAnswer(crash.killedAnswer)}`,
    );
  }
}

describe('crashes in the refund flow', () => {
  let battery: Battery;
  let admin: IssuedKey;
  let api: ApiProcess | undefined;

  beforeAll(async () => {
    battery = await openBattery('battery_refund_crash');
    const [issued] = await issueApiKeys(battery, 'admin', ['battery crash admin']);
    if (issued === undefined) {
      throw new Error('no admin key');
    }
    admin = issued;
  });

  afterEach(async () => {
    await api?.stop();
    api = undefined;
  });

  afterAll(async () => {
    await battery?.close();
  });

  it(`C1: one \`pay worker --once\` pass finishes what each of the ${REFUND_CRASH_POINTS.length} refund crash points left; the client's retry gets the refund`, async () => {
    const started = performance.now();
    // One paid payment per point, made before any process is armed.
    api = await battery.startApi();
    const payments: string[] = [];
    for (let i = 0; i < REFUND_CRASH_POINTS.length; i += 1) {
      payments.push(await paidPayment(battery, api));
    }
    await api.stop();
    api = undefined;

    const crashes = await Promise.all(
      REFUND_CRASH_POINTS.map((point, i) => crashRefundAt(battery, admin, point, payments[i] ?? '')),
    );
    figure('C1 refunds', `killed at ${crashes.length} points in ${since(started)} ms`);
    await printCrashes(battery, 'C1 refunds', crashes);
    await waitForStaleLocks('C1 refunds', crashes);

    const recoveryStarted = performance.now();
    api = await battery.startApi();
    const worker = await runCli(['worker', '--once', '--json'], battery.env());
    figure(
      'C1 refunds',
      `one pay worker --once pass: exit ${JSON.stringify(worker.exit)} ${worker.stdout.trim()}`,
    );
    expect(worker.exit).toEqual({ code: 0, signal: null });
    const pass = JSON.parse(worker.stdout) as {
      refunds: { failures: number };
      recovery: { failures: number };
    };
    expect([pass.refunds.failures, pass.recovery.failures]).toEqual([0, 0]);
    await printCrashes(battery, 'C1 refunds after recovery', crashes);
    // One recovery pass and no client yet: K1–K5 already hold.
    const afterRecovery = await checkInvariants(battery.ctx);
    figure('C1 refunds', `after one recovery pass: ${formatReport(afterRecovery)}`);
    expect(afterRecovery.violations).toEqual([]);

    const running = api;
    for (const crash of crashes) {
      const retried = await retryUntilFinal(() => postRefund(running, admin.secret, crash.key, crash.body));
      figure(
        'C1 refunds',
        `${crash.point}: client retry → ${retried.answers.map(describeAnswer).join(' → ')}`,
      );
      expect(retried.answers.filter((a) => a.kind === 'network' || a.status >= 500)).toEqual([]);
      expect({
        point: crash.point,
        answer: describeAnswer(retried.final),
        refund: refundOf(retried.final),
      }).toEqual({
        point: crash.point,
        answer: '201 (replayed)',
        refund: expect.objectContaining({ status: 'succeeded', amount: AMOUNT }) as unknown,
      });
      // One refund per request, in pay and in the sandbox.
      const sides = await refundedSides(battery, crash.paymentId);
      expect({
        point: crash.point,
        pay: sides.pay.refunds.map((r) => [r.id, r.status, r.amount]),
        sandbox: sides.sandbox.refunds.map((r) => [r.status, r.amount]),
        refunded: [sides.pay.amountRefunded, sides.sandbox.amountRefunded],
      }).toEqual({
        point: crash.point,
        pay: [[refundOf(retried.final)?.id, 'succeeded', AMOUNT]],
        sandbox: [['succeeded', AMOUNT]],
        refunded: [AMOUNT, AMOUNT],
      });
    }
    figure(
      'C1 refunds',
      `recovery wall time (restart, one worker pass, client retries): ${since(recoveryStarted)} ms`,
    );

    const report = await checkInvariants(battery.ctx);
    figure('C1 refunds', formatReport(report));
    expect(report.violations).toEqual([]);
    figure(
      'C1 refunds',
      `whole matrix (kill, wait out the lock, recover, retry, check): ${since(started)} ms`,
    );
  });
});
