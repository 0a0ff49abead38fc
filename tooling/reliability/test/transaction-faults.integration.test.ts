import {
  armTransactionFault,
  disarmTransactionFaults,
  installTransactionFaults,
  transactionFaultsRaised,
} from '../src/index.js';
import { openBuilder, type Builder } from './support/world-builder.js';

let b: Builder;

beforeAll(async () => {
  b = await openBuilder();
  await installTransactionFaults(b.ctx.databaseUrl);
  await installTransactionFaults(b.ctx.databaseUrl); // idempotent
});
afterAll(async () => {
  await b.close();
});
beforeEach(async () => {
  await disarmTransactionFaults(b.ctx.databaseUrl);
  await b.reset();
});

/** The SQLSTATE a statement failed with, or null when it succeeded. */
async function sqlstateOf(run: () => Promise<unknown>): Promise<string | null> {
  try {
    await run();
    return null;
  } catch (error) {
    return (error as { code?: string }).code ?? 'no code';
  }
}

describe('transaction faults (RELIABILITY.md A7)', () => {
  it('fails the armed statement the given number of times, with the given SQLSTATE, then lets it through', async () => {
    await armTransactionFault(b.ctx.databaseUrl, { target: 'payment_insert', sqlstate: '40001', times: 2 });
    const attempts = [];
    for (let i = 0; i < 3; i++) {
      attempts.push(await sqlstateOf(() => b.insertPayment({ status: 'pending', events: [] })));
    }
    expect(attempts).toEqual(['40001', '40001', null]);
    expect(await transactionFaultsRaised(b.ctx.databaseUrl)).toEqual({ payment_insert: 2 });
    expect((await b.sql`SELECT count(*)::int AS n FROM pay.payments`)[0]).toEqual({ n: 1 });
  });

  it('targets one phase: a deadlock on recording the intent leaves inserts and status changes alone', async () => {
    await armTransactionFault(b.ctx.databaseUrl, { target: 'intent_recorded', sqlstate: '40P01', times: 1 });
    const id = await b.insertPayment({ status: 'pending', events: [] });
    const record = () => b.sql`UPDATE pay.payments SET stripe_payment_intent_id = 'pi_x' WHERE id = ${id}`;
    expect(await sqlstateOf(record)).toBe('40P01');
    expect(
      await sqlstateOf(() => b.sql`UPDATE pay.payments SET status = 'failed' WHERE id = ${id}`),
    ).toBeNull();
    expect(await sqlstateOf(record)).toBeNull();
    expect(await transactionFaultsRaised(b.ctx.databaseUrl)).toEqual({ intent_recorded: 1 });
  });

  it('is inert when disarmed', async () => {
    await armTransactionFault(b.ctx.databaseUrl, {
      target: 'payment_status_change',
      sqlstate: '40001',
      times: 5,
    });
    await disarmTransactionFaults(b.ctx.databaseUrl);
    const id = await b.insertPayment({ status: 'pending', events: [] });
    expect(
      await sqlstateOf(() => b.sql`UPDATE pay.payments SET status = 'failed' WHERE id = ${id}`),
    ).toBeNull();
    expect(await transactionFaultsRaised(b.ctx.databaseUrl)).toEqual({});
  });
});
