import { createMemoryStore } from '../../test/memory/memory-store.js';
import type { Cause } from '../domain/entities.js';
import { NotFoundError } from '../errors.js';
import { newId } from '../ids.js';
import { OperatorLookup } from './operator-lookup.js';

const cause: Cause = { job: 'test' };

async function world() {
  const memory = createMemoryStore();
  const { repos } = memory.store;
  const paymentOf = async (name: string) => {
    const account = await repos.accounts.create({ name });
    const customer = await repos.customers.findOrCreate({ accountId: account.id, userId: 'u' });
    const payment = await repos.payments.create(
      {
        accountId: account.id,
        customerId: customer.id,
        billingReason: 'manual',
        amount: 1000,
        currency: 'usd',
        stripeIdempotencyKey: `pay:${name}`,
      },
      cause,
    );
    const refund = await repos.refunds.create(
      {
        accountId: account.id,
        paymentId: payment.id,
        amount: 400,
        currency: 'usd',
        status: 'requires_approval',
        origin: 'pay',
      },
      cause,
    );
    return { account, payment, refund };
  };
  return {
    lookup: new OperatorLookup({ store: memory.store }),
    acme: await paymentOf('Acme'),
    globex: await paymentOf('Globex'),
  };
}

describe('OperatorLookup', () => {
  it("names the account of any account's payment and refund from the id alone", async () => {
    const { lookup, acme, globex } = await world();
    expect(await lookup.accountOfPayment(acme.payment.id)).toBe(acme.account.id);
    expect(await lookup.accountOfPayment(globex.payment.id)).toBe(globex.account.id);
    expect(await lookup.accountOfRefund(acme.refund.id)).toBe(acme.account.id);
    expect(await lookup.accountOfRefund(globex.refund.id)).toBe(globex.account.id);
  });

  it('refuses an id no account holds, a malformed one, and an id of the other kind as not found', async () => {
    const { lookup, acme } = await world();
    for (const id of [newId('payment'), 'pay_nope', acme.refund.id]) {
      await expect(lookup.accountOfPayment(id)).rejects.toThrow(NotFoundError);
    }
    for (const id of [newId('refund'), 'rfnd_nope', acme.payment.id]) {
      await expect(lookup.accountOfRefund(id)).rejects.toThrow(NotFoundError);
    }
  });
});
