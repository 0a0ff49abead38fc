import fc from 'fast-check';
import { newId, ID_PREFIXES, type IdKind } from '../ids.js';
import { containsPan, findCardData, isCardFieldName, isLuhnValid } from './card-data.js';

/** Stripe's and the networks' published test PANs: every one must be found. */
const TEST_PANS = [
  '4242424242424242',
  '4000056655665556',
  '5555555555554444',
  '2223003122003222',
  '5200828282828210',
  '378282246310005',
  '371449635398431',
  '6011111111111117',
  '6011000990139424',
  '3056930009020004',
  '36227206271667',
  '3566002020360505',
  '6200000000000005',
  '4000002500003155',
  '4000000000009995',
];

const pan = fc.constantFrom(...TEST_PANS);

/** The PAN as a person might type it: plain, or in groups of 4 (or Amex's 4-6-5), with spaces or dashes. */
const formattedPan = fc
  .tuple(pan, fc.constantFrom('plain', 'fours', 'amex'), fc.constantFrom(' ', '-'))
  .map(([digits, style, sep]) => {
    if (style === 'plain') {
      return digits;
    }
    const sizes = style === 'amex' && digits.length === 15 ? [4, 6, 5] : [4, 4, 4, 4, 4];
    const groups: string[] = [];
    let at = 0;
    for (const size of sizes) {
      if (at < digits.length) {
        groups.push(digits.slice(at, at + size));
        at += size;
      }
    }
    return groups.join(sep);
  });

/** Text around a PAN that does not glue it to an identifier. */
const surrounding = fc.stringMatching(/^[a-z :,.()#=/]{0,12}$/).map((s) => (s === '' ? '' : `${s} `));
const panInText = fc
  .tuple(surrounding, formattedPan, surrounding)
  .map(([before, p, after]) => `${before}${p} ${after}`.trim());

const key = fc.stringMatching(/^[a-z_]{1,10}$/).filter((k) => !isCardFieldName(k));

/** `leaf` buried at a random place in random JSON, with the path to it. */
function buried(leaf: fc.Arbitrary<unknown>): fc.Arbitrary<{ value: unknown; path: (string | number)[] }> {
  const step = fc.oneof(
    key.map((k) => ({ segment: k, wrap: (v: unknown) => ({ other: 1, [k]: v }) })),
    fc.nat({ max: 3 }).map((i) => ({
      segment: i,
      wrap: (v: unknown) => [...Array.from({ length: i }, () => 'x'), v],
    })),
  );
  return fc.tuple(leaf, fc.array(step, { maxLength: 6 })).map(([value, steps]) => {
    let wrapped = value;
    for (const s of [...steps].reverse()) {
      wrapped = s.wrap(wrapped);
    }
    return { value: wrapped, path: steps.map((s) => s.segment) };
  });
}

const idKind = fc.constantFrom(...(Object.keys(ID_PREFIXES) as IdKind[]));
const stripeId = fc
  .tuple(
    fc.constantFrom('pi_', 'pm_', 'cus_', 'sub_', 're_', 'evt_', 'ch_', 'seti_', 'price_', 'prod_'),
    fc.stringMatching(/^[0-9A-Za-z]{24}$/),
  )
  .map(([prefix, body]) => `${prefix}${body}`);
/** A 13–19-digit run (one group: a reference number, an order number) that fails Luhn. */
const luhnInvalid = fc.stringMatching(/^[0-9]{13,19}$/).filter((digits) => !isLuhnValid(digits));

describe('card-data detector', () => {
  it('knows every test PAN is Luhn-valid and a Luhn-invalid neighbour is not', () => {
    for (const p of TEST_PANS) {
      expect([p, isLuhnValid(p)]).toEqual([p, true]);
      const last = Number(p.slice(-1));
      expect(isLuhnValid(`${p.slice(0, -1)}${(last + 1) % 10}`)).toBe(false);
    }
  });

  it('finds a test PAN in any formatting, at any depth, and names where', () => {
    fc.assert(
      fc.property(buried(panInText), ({ value, path }) => {
        expect(findCardData(value)).toEqual({ kind: 'pan', path });
      }),
    );
  });

  it('finds a PAN sent as a JSON number, and one used as a key', () => {
    expect(findCardData({ a: [4242424242424242] })).toEqual({ kind: 'pan', path: ['a', 0] });
    expect(findCardData({ meta: { '5555 5555 5555 4444': true } })).toEqual({
      kind: 'pan',
      path: ['meta', '5555 5555 5555 4444'],
    });
  });

  it("ignores pay's ids, Stripe's ids, amounts, timestamps and Luhn-invalid runs", () => {
    const harmless = fc.oneof(
      idKind.map((kind) => newId(kind)),
      stripeId,
      fc.integer({ min: 0, max: 99_999_999 }),
      fc
        // Millisecond timestamps reach 4e12 (a 13-digit run starting with 4, Visa's) in October 2096.
        .date({ min: new Date(0), max: new Date('2096-01-01'), noInvalidDate: true })
        .chain((d) => fc.constantFrom<unknown>(d.toISOString(), d.getTime(), String(d.getTime()))),
      luhnInvalid,
    );
    fc.assert(
      fc.property(buried(harmless), ({ value }) => {
        expect(findCardData(value)).toBeNull();
      }),
    );
  });

  it('does not take digits glued to letters for a card number', () => {
    expect(containsPan('pi_4242424242424242')).toBe(false);
    expect(containsPan('ref4242424242424242')).toBe(false);
    expect(containsPan('ref:4242424242424242')).toBe(true);
  });

  it('reports card field names only when asked, in any spelling', () => {
    const body = { payment: { Card_Number: 'x' } };
    expect(findCardData(body)).toBeNull();
    expect(findCardData(body, { cardFields: true })).toEqual({
      kind: 'card_field',
      path: ['payment', 'Card_Number'],
    });
    for (const name of ['card', 'cvc', 'CVV', 'cvc2', 'card-number', 'cardNumber']) {
      expect([name, isCardFieldName(name)]).toEqual([name, true]);
    }
    for (const name of ['cards_count', 'payment_method_id', 'number_of_seats', 'discount']) {
      expect([name, isCardFieldName(name)]).toEqual([name, false]);
    }
  });

  it('walks a deeply nested value without overflowing the stack', () => {
    let deep: unknown = '4242424242424242';
    for (let i = 0; i < 100_000; i++) {
      deep = { a: deep };
    }
    expect(findCardData(deep)?.path).toHaveLength(100_000);
  });
});
