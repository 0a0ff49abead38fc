import fc from 'fast-check';
import { ID_PREFIXES, isId, newId, parseId, type IdKind } from './ids.js';

const kinds = Object.keys(ID_PREFIXES) as IdKind[];
const STRIPE_PREFIXES = [
  'cus_',
  'pm_',
  'pi_',
  'sub_',
  're_',
  'evt_',
  'acct_',
  'plan_',
  'ch_',
  'price_',
  'in_',
];

describe('ids', () => {
  it('carries its kind’s prefix and round-trips through parseId', () => {
    for (const kind of kinds) {
      const id = newId(kind);
      expect(id.startsWith(`${ID_PREFIXES[kind]}_`)).toBe(true);
      expect(parseId(kind, id)).toBe(id);
    }
  });

  it('cannot be confused with a Stripe id or with another kind', () => {
    for (const kind of kinds) {
      const id = newId(kind);
      for (const stripe of STRIPE_PREFIXES) {
        expect(id.startsWith(stripe)).toBe(false);
      }
      for (const other of kinds.filter((k) => k !== kind)) {
        expect(isId(other, id)).toBe(false);
      }
    }
  });

  it('sorts by creation time, so list pages can use starting_after', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 47 }), fc.integer({ min: 1, max: 2 ** 30 }), (t, dt) => {
        const a = newId('payment', new Date(t));
        const b = newId('payment', new Date(t + dt));
        expect(a < b).toBe(true);
      }),
    );
  });

  it('is not guessable: 10,000 ids made in one millisecond are distinct', () => {
    const now = new Date();
    const ids = new Set(Array.from({ length: 10_000 }, () => newId('refund', now)));
    expect(ids.size).toBe(10_000);
  });

  it('rejects malformed ids with a message naming the expected prefix', () => {
    expect(() => parseId('payment', 'pi_123', 'payment_id')).toThrow(/expected pay_/);
    expect(isId('payment', 'pay_')).toBe(false);
    expect(isId('payment', `pay_${'A'.repeat(26)}`)).toBe(false);
  });
});
