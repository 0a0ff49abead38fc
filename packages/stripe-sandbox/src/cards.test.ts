import { cardForAlias, cardForNumber, luhnValid, TEST_CARDS } from './cards.js';

describe('the test-card table', () => {
  it('has Luhn-valid numbers and unique aliases', () => {
    const aliases = TEST_CARDS.flatMap((c) => c.aliases);
    expect(new Set(aliases).size).toBe(aliases.length);
    for (const card of TEST_CARDS) {
      expect(luhnValid(card.number)).toBe(true);
      for (const alias of card.aliases) {
        expect(cardForAlias(alias)).toBe(card);
      }
    }
  });

  it('covers the rows the brief names', () => {
    expect(cardForNumber('4242424242424242')?.decline).toBeUndefined();
    expect(cardForNumber('4000000000000002')?.decline?.declineCode).toBe('generic_decline');
    expect(cardForNumber('4000000000003220')?.threeDSecure).toBe('always');
    expect(cardForNumber('4000000000009995')?.decline?.declineCode).toBe('insufficient_funds');
    expect(cardForNumber('4000000000000069')?.decline?.code).toBe('expired_card');
  });

  it('treats other Luhn-valid numbers like 4242 with their own brand, and refuses Luhn failures', () => {
    expect(cardForNumber('5105105105105100')).toMatchObject({
      brand: 'mastercard',
      threeDSecure: 'on_request',
    });
    expect(cardForNumber('6011111111111117')?.brand).toBe('discover');
    expect(cardForNumber('4242424242424241')).toBeUndefined();
    expect(luhnValid('4242')).toBe(false);
  });
});
