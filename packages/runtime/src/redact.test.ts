import { isLuhnValid } from '@pay/core';
import { isSecretKey, REDACTED, redactString, redactValue } from './redact.js';

describe('isSecretKey', () => {
  it.each([
    'authorization',
    'Authorization',
    'proxy-authorization',
    'cookie',
    'set-cookie',
    'password',
    'dbPassword',
    'secret',
    'client_secret',
    'webhookSecret',
    'webhook_secrets',
    'STRIPE_SECRET_KEY',
    'api_key',
    'apiKey',
    'x-api-key',
    'stripe-signature',
    'Stripe-Signature',
    'card',
    'card_number',
    'number',
    'cvc',
    'cvv',
    'access_token',
    'databaseUrl',
  ])('treats %s as secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each(['amount', 'currency', 'last4', 'brand', 'requestId', 'status', 'path'])(
    'lets %s through',
    (key) => {
      expect(isSecretKey(key)).toBe(false);
    },
  );
});

describe('isLuhnValid', () => {
  it('accepts test card numbers and rejects their neighbours', () => {
    expect(isLuhnValid('4242424242424242')).toBe(true);
    expect(isLuhnValid('378282246310005')).toBe(true);
    expect(isLuhnValid('4242424242424241')).toBe(false);
  });
});

describe('redactString', () => {
  it.each([
    ['a Stripe secret key', 'key sk_test_51HxYzAbCdEf0123 failed', 'key [REDACTED] failed'],
    ['a live key', 'sk_live_abcdefABCDEF0123', REDACTED],
    ['a restricted key', 'using rk_test_abcdef012345', `using ${REDACTED}`],
    ['a restricted key of any spelling', 'rk_abcdef012345', REDACTED],
    ['a webhook secret', 'secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', `secret=${REDACTED}`],
    ['a pay API key', 'Bearer-less psk_test_4f9a0b1c2d3e', `Bearer-less ${REDACTED}`],
    [
      'a database URL password',
      'connect postgres://pay:hunter2@db.internal:5432/pay failed',
      'connect postgres://pay:[REDACTED]@db.internal:5432/pay failed',
    ],
    ['a postgresql:// URL password', 'postgresql://u:p%40ss@h/db', 'postgresql://u:[REDACTED]@h/db'],
    ['a bearer token', 'Authorization: Bearer abc.def.ghi', 'Authorization: Bearer [REDACTED]'],
    ['a PAN', 'card 4242424242424242 declined', `card ${REDACTED} declined`],
    ['a PAN in groups', 'card 4242 4242 4242 4242 exp 12/34', `card ${REDACTED} exp 12/34`],
    ['a PAN with dashes', '5555-5555-5555-4444', REDACTED],
    ['a PAN followed by more digits', '4242 4242 4242 4242 12', `${REDACTED} 12`],
    ['an Amex PAN', 'amex 378282246310005', `amex ${REDACTED}`],
    ['a 19-digit PAN', '6011000990139424009', REDACTED],
    ['a PAN inside JSON', '{"number":"4000056655665556"}', `{"number":"${REDACTED}"}`],
  ])('removes %s', (_what, input, expected) => {
    expect(redactString(input)).toBe(expected);
  });

  it.each([
    ['a Luhn-invalid card-like number', 'order 4242424242424241'],
    ['a 12-digit run', 'id 424242424242'],
    ['a 20-digit run', '42424242424242424242'],
    ['a date', '2026-11-26 12:00:00'],
    ['a URL without a password', 'postgres://pay@db.internal/pay'],
    ['a publishable key', 'pk_test_abc'],
  ])('keeps %s', (_what, input) => {
    expect(redactString(input)).toBe(input);
  });
});

describe('redactValue', () => {
  it('redacts through nested objects and arrays without touching the input', () => {
    const input = {
      request: { headers: { authorization: 'Bearer psk_x', 'content-type': 'application/json' } },
      payment_method: { card: { number: '4242424242424242', cvc: '123' } },
      attempts: [{ note: 'used sk_test_abcdef123456' }, { password: 'hunter2' }],
      amount: 1000,
      pan: 4242424242424242,
    };
    const copy = structuredClone(input);
    expect(redactValue(input)).toEqual({
      request: { headers: { authorization: REDACTED, 'content-type': 'application/json' } },
      payment_method: { card: REDACTED },
      attempts: [{ note: `used ${REDACTED}` }, { password: REDACTED }],
      amount: 1000,
      pan: REDACTED,
    });
    expect(input).toEqual(copy);
  });

  it('redacts numbers that are PANs', () => {
    expect(redactValue({ value: 4242424242424242 })).toEqual({ value: REDACTED });
    expect(redactValue({ value: 1_700_000_000_000 })).toEqual({ value: 1_700_000_000_000 });
  });

  it('turns Errors into plain objects with their message and stack redacted', () => {
    const error = new Error('could not connect to postgres://pay:hunter2@db/pay');
    const out = redactValue({ error }) as { error: { name: string; message: string; stack: string } };
    expect(out.error.name).toBe('Error');
    expect(out.error.message).toBe('could not connect to postgres://pay:[REDACTED]@db/pay');
    expect(out.error.stack).toContain('postgres://pay:[REDACTED]@db/pay');
    expect(JSON.stringify(out)).not.toContain('hunter2');
  });

  it('keeps causes and custom fields of Errors', () => {
    const error = Object.assign(new Error('outer', { cause: new Error('card 4242424242424242') }), {
      code: 'E1',
    });
    expect(redactValue(error)).toMatchObject({
      code: 'E1',
      message: 'outer',
      cause: { message: `card ${REDACTED}` },
    });
  });

  it('cuts cycles', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(redactValue(a)).toEqual({ name: 'a', self: '[Circular]' });
  });

  it('keeps null and undefined under secret keys as they are', () => {
    expect(redactValue({ password: null, secret: undefined })).toEqual({ password: null, secret: undefined });
  });
});
