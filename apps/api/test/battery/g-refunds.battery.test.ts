import { randomBytes } from 'node:crypto';
import { checkInvariants, formatReport, type InvariantReport } from '@pay/reliability';
import { newIdempotencyKey, openBattery, type Battery } from './support/battery.js';
import { describeAnswer, type Answer } from './support/client.js';
import { waitForStaleLocks } from './support/crash.js';
import { NIGHTLY, figure, since, tally } from './support/figures.js';
import { withSql } from './support/pay-sql.js';
import { runCli, type ApiProcess, type CliRun } from './support/processes.js';
import {
  approveRefund,
  bodyOf,
  createPlan,
  detailInt,
  getRefund,
  issueApiKeys,
  paidPayment,
  postRefund,
  readRefundAudit,
  refundCreates,
  refundedSides,
  refundOf,
  sumRefunded,
  type IssuedKey,
} from './support/refunds.js';

/*
 * RELIABILITY.md G1–G3 (issue 7) on real PostgreSQL, through the built API and CLI as real processes and
 * the Stripe sandbox's ledger:
 * - G1: many admins refund one payment at the same moment; the sum never passes what was captured, and
 *   each refund has exactly one audit row written with it;
 * - G2: `pay process-refund` killed between Stripe's answer and its commit, rerun with the same request
 *   id, reports the one refund Stripe made;
 * - G3: the service's database role cannot rewrite the audit log or the refund ledger; a service key's
 *   refund and an admin approving its own refund are refused and audited; above the four-eyes threshold
 *   nothing reaches Stripe until a second admin approves.
 */

const CAPTURED = 10_000;
const G1_REQUESTS = NIGHTLY ? 400 : 50;
const G1_AMOUNT = NIGHTLY ? 30 : 300;
const ADMINS = 5;

async function expectClean(label: string, battery: Battery): Promise<InvariantReport> {
  const report = await checkInvariants(battery.ctx);
  figure(label, formatReport(report));
  expect(report.violations).toEqual([]);
  return report;
}

/** An HTTP answer's status and error code, for comparing answers as a whole. */
function outcome(answer: Answer): string {
  return answer.kind === 'http'
    ? `${answer.status}${answer.code === null ? '' : ` ${answer.code}`}`
    : 'network';
}

/** The JSON `pay … --json` printed, or a failure naming what it printed instead. */
function jsonOf(run: CliRun): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(run.stdout);
    if (typeof parsed === 'object' && parsed !== null) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // Reported below with the output.
  }
  throw new Error(`no JSON from the CLI (${JSON.stringify(run.exit)}):\n${run.stdout}\n${run.stderr}`);
}

describe('admin refunds and their audit (RELIABILITY.md G)', () => {
  let battery: Battery;
  let admins: IssuedKey[];
  let service: IssuedKey;
  let api: ApiProcess | undefined;

  beforeAll(async () => {
    battery = await openBattery('battery_refunds');
    admins = await issueApiKeys(
      battery,
      'admin',
      Array.from({ length: ADMINS }, (_, i) => `battery admin ${i + 1}`),
    );
    const [serviceKey] = await issueApiKeys(battery, 'service', ['battery service']);
    if (serviceKey === undefined) {
      throw new Error('no service key');
    }
    service = serviceKey;
  });

  afterEach(async () => {
    await api?.stop();
    api = undefined;
  });

  afterAll(async () => {
    await battery?.close();
  });

  it(`G1: ${G1_REQUESTS} parallel refunds of ${G1_AMOUNT} on a payment of ${CAPTURED} never refund more than was captured, in pay or in the sandbox; one audit row per success`, async () => {
    api = await battery.startApi();
    const paymentId = await paidPayment(battery, api, await createPlan(battery, CAPTURED));
    const requests = Array.from({ length: G1_REQUESTS }, (_, i) => ({
      admin: admins[i % admins.length] ?? admins[0],
      key: newIdempotencyKey(`g1-${i}`),
      body: { payment_id: paymentId, amount: G1_AMOUNT, reason: `g1 refund ${i}` },
    }));
    const started = performance.now();
    const running = api;
    const answers = await Promise.all(
      requests.map((r) => postRefund(running, r.admin?.secret ?? '', r.key, r.body)),
    );
    figure(
      'G1',
      `${G1_REQUESTS} refunds at once in ${since(started)} ms: ${tally(answers.map(describeAnswer))}`,
    );

    // Each request either refunded or was refused as too much; no other answer.
    expect(answers.map(outcome).filter((o) => o !== '201' && o !== '422 refund_exceeds_captured')).toEqual(
      [],
    );
    const successes = answers.flatMap((answer, i) => {
      const refund = refundOf(answer);
      const request = requests[i];
      return refund === null || request === undefined || answer.kind !== 'http'
        ? []
        : [{ refund, request, requestId: answer.requestId }];
    });
    // A refusal only once less than one more refund remained: no capacity was lost to the race either.
    const fits = Math.floor(CAPTURED / G1_AMOUNT);
    expect(successes).toHaveLength(Math.min(fits, G1_REQUESTS));
    expect(successes.map((s) => `${s.refund.status} ${s.refund.amount}`)).toEqual(
      successes.map(() => `succeeded ${G1_AMOUNT}`),
    );

    const sides = await refundedSides(battery, paymentId);
    const inPay = sumRefunded(sides.pay.refunds);
    const inSandbox = sumRefunded(sides.sandbox.refunds, ['succeeded', 'pending']);
    figure(
      'G1',
      `refunded: pay ${inPay} (amount_refunded ${sides.pay.amountRefunded}, ${sides.pay.status}), ` +
        `sandbox ${inSandbox} in ${sides.sandbox.refunds.length} refunds (charge amount_refunded ${sides.sandbox.amountRefunded}) of ${CAPTURED}`,
    );
    expect(inPay).toBeLessThanOrEqual(CAPTURED);
    expect(inSandbox).toBeLessThanOrEqual(CAPTURED);
    expect({
      pay: inPay,
      payAmountRefunded: sides.pay.amountRefunded,
      sandbox: inSandbox,
      sandboxCharge: sides.sandbox.amountRefunded,
      sandboxRefunds: sides.sandbox.refunds.length,
    }).toEqual({
      pay: successes.length * G1_AMOUNT,
      payAmountRefunded: successes.length * G1_AMOUNT,
      sandbox: successes.length * G1_AMOUNT,
      sandboxCharge: successes.length * G1_AMOUNT,
      sandboxRefunds: successes.length,
    });

    // Exactly one `refund.requested` row per refund: who, how much, why, the payment's amounts, the request.
    const audit = await readRefundAudit(battery.database.url);
    const rowsOf = (refundId: string) =>
      audit.filter((row) => row.action === 'refund.requested' && row.targetId === refundId);
    const wrong = successes.flatMap(({ refund, request, requestId }) => {
      const rows = rowsOf(refund.id);
      const row = rows[0];
      const ok =
        rows.length === 1 &&
        row !== undefined &&
        row.actorType === 'api_key' &&
        row.actorId === request.admin?.id &&
        row.amount === G1_AMOUNT &&
        row.details.reason === request.body.reason &&
        row.details.paymentId === paymentId &&
        detailInt(row, 'paymentAmount') === CAPTURED &&
        detailInt(row, 'reservedAfter') === (detailInt(row, 'reservedBefore') ?? NaN) + G1_AMOUNT &&
        row.requestId !== null &&
        row.requestId === requestId;
      return ok ? [] : [{ refund: refund.id, requestId, rows }];
    });
    expect(wrong).toEqual([]);
    // The row lock queued them: the amounts before and after chain up, 0 → 300 → 600 → …, none skipped.
    const afters = successes
      .flatMap(({ refund }) => rowsOf(refund.id).map((row) => detailInt(row, 'reservedAfter') ?? NaN))
      .sort((a, b) => a - b);
    expect(afters).toEqual(successes.map((_, i) => (i + 1) * G1_AMOUNT));
    const refusalsAudited =
      audit.filter((row) => row.details.paymentId === paymentId).length - successes.length;
    figure(
      'G1',
      `audit: ${successes.length} refund.requested rows; ${refusalsAudited} for the ${G1_REQUESTS - successes.length} refusals`,
    );

    await expectClean('G1', battery);
  });

  it('G2: `pay process-refund` killed between Stripe and its commit, rerun with the same request id, reports the one refund Stripe made', async () => {
    api = await battery.startApi();
    const paymentId = await paidPayment(battery, api);
    const requestId = `battery-g2-${randomBytes(8).toString('hex')}`;
    const args = [
      'process-refund',
      paymentId,
      '--amount',
      '500',
      '--reason',
      'g2 cli refund',
      '--yes',
      '--json',
    ];
    const withId = [...args, '--request-id', requestId];
    const env = battery.env({ PAY_OPERATOR: 'battery-operator' });
    const point = 'refund.after_gateway_before_commit';

    const killed = await runCli(withId, { ...env, PAY_FAULTS: point });
    const diedAt = performance.now();
    figure('G2', `armed run ended ${JSON.stringify(killed.exit)}`);
    expect({
      signal: killed.exit.signal,
      reached: killed.stderr.includes(`crash point ${point} reached`),
    }).toEqual({
      signal: 'SIGKILL',
      reached: true,
    });
    // Stripe refunded; pay's record of the answer died with the process.
    const afterKill = await refundedSides(battery, paymentId);
    figure(
      'G2',
      `after the kill: pay ${JSON.stringify(afterKill.pay.refunds)}, sandbox ${JSON.stringify(afterKill.sandbox.refunds)}`,
    );
    expect(afterKill.sandbox.refunds.map((r) => r.amount)).toEqual([500]);
    expect(afterKill.pay.refunds.map((r) => [r.status, r.amount])).toEqual([['pending', 500]]);
    const made = afterKill.pay.refunds[0]?.id;

    // At once, the dead run still holds the request id (as a live one would): refused, nothing done.
    const early = await runCli(withId, env);
    figure(
      'G2',
      `rerun before the lock timeout: exit ${JSON.stringify(early.exit)} ${early.stdout.trim()} ${early.stderr.trim()}`,
    );
    // (`--json` errors exit 1 although they print `"exit": 2`: BaseCommand's PAY_ERROR_EXIT is lost there.)
    expect(early.exit.code).not.toBe(0);
    expect(jsonOf(early)).toMatchObject({ error: { code: 'idempotency_key_in_use' } });

    await waitForStaleLocks('G2', [{ diedAt }]);
    const rerun = await runCli(withId, env);
    const again = await runCli(withId, env);
    const views = [jsonOf(rerun), jsonOf(again)].map((v) => [
      v.id,
      v.status,
      v.amount,
      v.request_id,
      v.replayed,
    ]);
    figure('G2', `reruns: ${JSON.stringify(views)}`);
    expect([rerun.exit.code, again.exit.code]).toEqual([0, 0]);
    expect(views).toEqual([
      [made, 'succeeded', 500, requestId, false],
      [made, 'succeeded', 500, requestId, true],
    ]);

    const sides = await refundedSides(battery, paymentId);
    expect(sides.sandbox.refunds.map((r) => [r.status, r.amount])).toEqual([['succeeded', 500]]);
    expect(sides.pay.refunds.map((r) => [r.id, r.status, r.amount])).toEqual([[made, 'succeeded', 500]]);
    expect([sides.pay.amountRefunded, sides.sandbox.amountRefunded]).toEqual([500, 500]);
    // One command, one audit row, however many runs it took.
    const audit = (await readRefundAudit(battery.database.url)).filter((row) => row.requestId === requestId);
    expect(audit.map((row) => [row.action, row.actorType, row.actorId, row.targetId, row.amount])).toEqual([
      ['refund.requested', 'cli_operator', 'battery-operator', made, 500],
    ]);
    await expectClean('G2', battery);
  });

  it('G3: the service role cannot rewrite the audit log or the refund ledger; refused refunds are audited, and above the threshold Stripe hears nothing until a second admin approves', async () => {
    // The database role pay runs as (pay_service) may only append to the audit log and the ledger.
    const asService = (statement: string) =>
      withSql(battery.database.url, (sql) => sql.unsafe(statement), { role: 'pay_service' }).then(
        (rows) => ({ ok: rows }),
        (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
      );
    expect(await asService('SELECT current_user AS role')).toEqual({ ok: [{ role: 'pay_service' }] });
    const attempts = {
      'UPDATE pay.audit_log': await asService("UPDATE pay.audit_log SET action = 'rewritten'"),
      'DELETE FROM pay.audit_log': await asService('DELETE FROM pay.audit_log'),
      'UPDATE pay.refund_events': await asService('UPDATE pay.refund_events SET amount = 0'),
      'DELETE FROM pay.refund_events': await asService('DELETE FROM pay.refund_events'),
    };
    figure('G3', JSON.stringify(attempts));
    expect(attempts).toEqual({
      'UPDATE pay.audit_log': { error: 'permission denied for table audit_log' },
      'DELETE FROM pay.audit_log': { error: 'permission denied for table audit_log' },
      'UPDATE pay.refund_events': { error: 'permission denied for table refund_events' },
      'DELETE FROM pay.refund_events': { error: 'permission denied for table refund_events' },
    });

    const threshold = 1_000;
    api = await battery.startApi({ PAY_REFUND_APPROVAL_THRESHOLD: String(threshold) });
    const paymentId = await paidPayment(battery, api);
    const [first, second] = admins;
    if (first === undefined || second === undefined) {
      throw new Error('two admin keys are needed');
    }
    const issued: { what: string; answer: Answer }[] = [];
    const send = async (what: string, answer: Promise<Answer>) => {
      const got = await answer;
      issued.push({ what, answer: got });
      figure('G3', `${what} → ${describeAnswer(got)}`);
      return got;
    };
    const stripeBefore = refundCreates(battery);

    // A service key may not refund: 403, audited as denied, nothing written or sent.
    const byService = await send(
      'service key refunds 300',
      postRefund(api, service.secret, newIdempotencyKey('g3-service'), {
        payment_id: paymentId,
        amount: 300,
      }),
    );
    expect(outcome(byService)).toBe('403 forbidden');

    // Above the threshold: it waits for a second admin, and Stripe is not asked.
    const asked = await send(
      `admin 1 refunds 1500 (threshold ${threshold})`,
      postRefund(api, first.secret, newIdempotencyKey('g3-four-eyes'), {
        payment_id: paymentId,
        amount: 1_500,
        reason: 'g3 four eyes',
      }),
    );
    const waiting = refundOf(asked);
    expect(waiting).toMatchObject({ status: 'requires_approval', amount: 1_500 });
    const refundId = waiting?.id ?? '';
    expect(refundCreates(battery)).toBe(stripeBefore);

    // The admin who asked may not approve it: 403, audited, still waiting, still nothing sent.
    const selfApproved = await send(
      'admin 1 approves its own refund',
      approveRefund(api, first.secret, newIdempotencyKey('g3-self'), refundId),
    );
    expect(outcome(selfApproved)).toBe('403 forbidden');
    expect(refundOf(await getRefund(api, first.secret, refundId))?.status).toBe('requires_approval');
    expect(refundCreates(battery)).toBe(stripeBefore);

    // A second admin approves it: only now does Stripe refund.
    const approved = await send(
      'admin 2 approves it',
      approveRefund(api, second.secret, newIdempotencyKey('g3-approve'), refundId),
    );
    expect(refundOf(approved)).toMatchObject({ id: refundId, status: 'succeeded', amount: 1_500 });
    expect(refundCreates(battery)).toBe(stripeBefore + 1);
    const read = await getRefund(api, first.secret, refundId);
    expect(read.kind === 'http' ? bodyOf(read) : null).toMatchObject({
      requested_by: first.id,
      approved_by: second.id,
      status: 'succeeded',
    });

    // Below the threshold an admin's refund goes straight through.
    const small = await send(
      'admin 2 refunds 200',
      postRefund(api, second.secret, newIdempotencyKey('g3-small'), { payment_id: paymentId, amount: 200 }),
    );
    expect(refundOf(small)).toMatchObject({ status: 'succeeded', amount: 200 });

    // One audit row per command issued, refused ones included, each naming its request.
    const requestIds = issued.map(({ answer }) => (answer.kind === 'http' ? answer.requestId : null));
    const audit = (await readRefundAudit(battery.database.url)).filter(
      (row) => row.requestId !== null && requestIds.includes(row.requestId),
    );
    const rows = issued.map(({ what, answer }) => {
      const mine = audit.filter((row) => answer.kind === 'http' && row.requestId === answer.requestId);
      return [
        what,
        mine.map((row) => `${row.action} by ${row.actorId} on ${row.targetType} ${row.targetId}`),
      ];
    });
    figure('G3', `audit rows: ${JSON.stringify(rows)}`);
    expect(audit).toHaveLength(issued.length);
    expect(rows).toEqual([
      ['service key refunds 300', [`refund.denied by ${service.id} on payment ${paymentId}`]],
      [
        `admin 1 refunds 1500 (threshold ${threshold})`,
        [`refund.requested by ${first.id} on refund ${refundId}`],
      ],
      ['admin 1 approves its own refund', [`refund.denied by ${first.id} on refund ${refundId}`]],
      ['admin 2 approves it', [`refund.approved by ${second.id} on refund ${refundId}`]],
      ['admin 2 refunds 200', [`refund.requested by ${second.id} on refund ${refundOf(small)?.id}`]],
    ]);
    expect(audit.filter((row) => row.action === 'refund.denied').map((row) => row.details.outcome)).toEqual([
      'denied',
      'denied',
    ]);

    const sides = await refundedSides(battery, paymentId);
    expect([sumRefunded(sides.pay.refunds), sumRefunded(sides.sandbox.refunds)]).toEqual([1_700, 1_700]);
    await expectClean('G3', battery);
  });
});
