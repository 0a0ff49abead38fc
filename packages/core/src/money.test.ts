import fc from 'fast-check';
import {
  CURRENCIES,
  MAX_AMOUNT,
  addMoney,
  formatMoney,
  minorUnits,
  money,
  parseCurrency,
  subtractMoney,
  type Currency,
} from './money.js';
import { isPayError } from './errors.js';

const currency = fc.constantFrom(...CURRENCIES);
const twoDecimal = fc.constantFrom(...CURRENCIES.filter((c) => minorUnits(c) !== 3));

function validAmount(c: Currency): fc.Arbitrary<number> {
  return minorUnits(c) === 3
    ? fc.integer({ min: 1, max: Math.floor(MAX_AMOUNT / 10) }).map((n) => n * 10)
    : fc.integer({ min: 1, max: MAX_AMOUNT });
}

describe('money', () => {
  it('accepts every positive integer amount within Stripe limits', () => {
    fc.assert(
      fc.property(
        currency.chain((c) => validAmount(c).map((a) => [a, c] as const)),
        ([amount, c]) => {
          expect(money(amount, c)).toEqual({ amount, currency: c });
        },
      ),
    );
  });

  it('rejects floats, zero, negatives and amounts above the limit, naming the param', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ noInteger: true }),
          fc.integer({ max: 0 }),
          fc.integer({ min: MAX_AMOUNT + 1 }),
          fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60),
        ),
        twoDecimal,
        (amount, c) => {
          try {
            money(amount, c, 'price');
          } catch (err) {
            expect(isPayError(err) && err.code === 'invalid_request' && err.param === 'price').toBe(true);
            return;
          }
          throw new Error(`accepted ${amount}`);
        },
      ),
    );
  });

  it('requires three-decimal currencies to end in 0, as Stripe does', () => {
    expect(() => money(1005, 'kwd')).toThrow(/end in 0/);
    expect(money(1000, 'kwd').amount).toBe(1000);
  });

  it('adds and subtracts exactly, so a+b-b = a', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_AMOUNT }),
        fc.integer({ min: 1, max: MAX_AMOUNT }),
        (a, b) => {
          const x = money(a, 'usd');
          const y = money(b, 'usd');
          expect(subtractMoney(addMoney(x, y), y)).toEqual(x);
        },
      ),
    );
  });

  it('never mixes currencies and never goes negative', () => {
    expect(() => addMoney(money(100, 'usd'), money(100, 'eur'))).toThrow(/usd with eur/);
    expect(() => subtractMoney(money(100, 'usd'), money(101, 'usd'))).toThrow(/negative/);
  });

  it('parses currency codes case-insensitively and rejects unknown ones', () => {
    expect(parseCurrency('USD')).toBe('usd');
    expect(() => parseCurrency('xyz')).toThrow(/Unsupported currency/);
    expect(() => parseCurrency('__proto__')).toThrow(/Unsupported currency/);
  });

  it('formats with integer arithmetic for every minor-unit rule', () => {
    expect(formatMoney(money(1234, 'usd'))).toBe('12.34 USD');
    expect(formatMoney(money(5, 'usd'))).toBe('0.05 USD');
    expect(formatMoney(money(1000, 'jpy'))).toBe('1000 JPY');
    expect(formatMoney(money(1230, 'kwd'))).toBe('1.230 KWD');
  });
});
