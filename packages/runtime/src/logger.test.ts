import { PassThrough } from 'node:stream';
import { createLogger } from './logger.js';

/** A logger writing into memory, and the JSON lines written so far. */
function capture(level: 'debug' | 'info' = 'info') {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const logger = createLogger({ level, stream });
  const lines = async (): Promise<Record<string, unknown>[]> => {
    // winston writes through a stream pipeline: let it drain before reading.
    await new Promise((resolve) => setImmediate(resolve));
    return chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  return { logger, lines, raw: () => chunks.join('') };
}

describe('createLogger', () => {
  it('writes JSON lines with timestamp, level, message and fields', async () => {
    const { logger, lines } = capture();
    logger.info('payment created', { paymentId: 'pay_1', amount: 1000 });
    const [line] = await lines();
    expect(line).toEqual({
      level: 'info',
      message: 'payment created',
      paymentId: 'pay_1',
      amount: 1000,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
  });

  it('honours the level', async () => {
    const { logger, lines } = capture('info');
    logger.debug('hidden');
    logger.warn('shown');
    expect((await lines()).map((l) => l.message)).toEqual(['shown']);
  });

  it('adds a child logger fields to every line', async () => {
    const { logger, lines } = capture();
    const child = logger.child({ requestId: 'req_1' }).child({ job: 'recovery' });
    child.error('failed', { attempt: 2 });
    expect(await lines()).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'failed',
        requestId: 'req_1',
        job: 'recovery',
        attempt: 2,
      }),
    ]);
  });

  describe('redaction', () => {
    it.each([
      [
        'an authorization header',
        { headers: { authorization: 'Bearer psk_live_abc123' } },
        'psk_live_abc123',
      ],
      ['a cookie', { headers: { Cookie: 'session=abc123' } }, 'session=abc123'],
      ['a password', { db: { password: 'hunter2' } }, 'hunter2'],
      ['a secret', { client_secret: 'pi_123_secret_456' }, 'pi_123_secret_456'],
      ['an api_key', { api_key: 'key-abc' }, 'key-abc'],
      ['an apiKey', { apiKey: 'key-abc' }, 'key-abc'],
      ['a Stripe signature', { 'stripe-signature': 't=1,v1=abcdef' }, 'v1=abcdef'],
      ['a card object', { card: { number: '4242424242424242', cvc: '123', exp_month: 12 } }, '4242'],
      ['a number', { number: '4000056655665556' }, '4000056655665556'],
      ['a cvc', { cvc: '737' }, '737'],
      ['a cvv', { cvv: '737' }, '737'],
      ['webhook secrets', { webhookSecrets: ['whsec_a', 'whsec_b'] }, 'whsec_'],
      ['a database URL password', { url: 'postgres://pay:hunter2@db/pay' }, 'hunter2'],
      [
        'a Stripe key in a message field',
        { note: 'retry with sk_test_abcdef123456' },
        'sk_test_abcdef123456',
      ],
      ['a restricted key', { note: 'rk_live_abcdef123456' }, 'rk_live_abcdef123456'],
      ['a webhook secret anywhere', { list: [{ deep: ['whsec_abcdef'] }] }, 'whsec_abcdef'],
      ['a pay API key', { key: 'psk_test_4f9a0b1c2d3e' }, 'psk_test_4f9a0b1c2d3e'],
      ['a PAN in nested text', { body: { note: 'my card is 4242 4242 4242 4242' } }, '4242 4242 4242 4242'],
      ['a PAN as a number', { body: { pan_like: 4242424242424242 } }, '4242424242424242'],
    ])('hides %s', async (_what, fields, secret) => {
      const { logger, lines, raw } = capture();
      logger.info('event', fields);
      expect(await lines()).toHaveLength(1);
      expect(raw()).not.toContain(secret);
      expect(raw()).toContain('[REDACTED]');
    });

    it('hides secrets in the message itself', async () => {
      const { logger, raw } = capture();
      logger.warn('card 4242424242424242 used key sk_live_abcdef123456 on postgres://u:pw@h/db');
      await new Promise((resolve) => setImmediate(resolve));
      expect(raw()).toContain('card [REDACTED] used key [REDACTED] on postgres://u:[REDACTED]@h/db');
    });

    it('hides secrets in error messages and stacks', async () => {
      const { logger, lines, raw } = capture();
      logger.error('request failed', { error: new Error('declined 4242424242424242 for whsec_abcdef') });
      const [line] = await lines();
      expect(line?.error).toMatchObject({ name: 'Error', message: 'declined [REDACTED] for [REDACTED]' });
      expect(raw()).not.toContain('4242424242424242');
      expect(raw()).not.toContain('whsec_abcdef');
    });

    it('hides secrets in child logger fields', async () => {
      const { logger, raw } = capture();
      logger.child({ authorization: 'Bearer psk_abc' }).info('hello');
      await new Promise((resolve) => setImmediate(resolve));
      expect(raw()).not.toContain('psk_abc');
    });

    it('keeps ordinary fields', async () => {
      const { logger, lines } = capture();
      logger.info('refund', { amount: 500, currency: 'usd', last4: '4242', brand: 'visa' });
      expect((await lines())[0]).toMatchObject({
        amount: 500,
        currency: 'usd',
        last4: '4242',
        brand: 'visa',
      });
    });
  });
});
