import { parseCli, parseWebhookFlag, UsageError } from './cli-flags.js';

describe('parseCli', () => {
  it('defaults to 127.0.0.1:12111 on a real clock, any test key', () => {
    expect(parseCli([])).toEqual({
      help: false,
      version: false,
      options: { port: 12_111, host: '127.0.0.1', clock: 'real' },
    });
  });

  it('reads every flag', () => {
    const { options } = parseCli([
      '--port=0',
      '--host',
      '0.0.0.0',
      '--clock',
      'virtual',
      '--api-key',
      'sk_test_a',
      '--api-key',
      'sk_test_b',
      '--webhook',
      'url=http://127.0.0.1:3000/hooks,secret=whsec_1,events=charge.succeeded|charge.refunded,account=acct_1',
      '--rate-limits',
      '--latency',
      '300',
      '--retry-schedule',
      'test',
      '--raw-card-data',
      'reject',
      '--decline-on-attach',
      '--api-version',
      '2025-09-30.clover',
      '--public-url',
      'http://sandbox.test',
    ]);
    expect(options).toEqual({
      port: 0,
      host: '0.0.0.0',
      clock: 'virtual',
      apiKeys: ['sk_test_a', 'sk_test_b'],
      webhookEndpoints: [
        {
          url: 'http://127.0.0.1:3000/hooks',
          secret: 'whsec_1',
          enabledEvents: ['charge.succeeded', 'charge.refunded'],
          account: 'acct_1',
        },
      ],
      rateLimits: true,
      latency: { type: 'fixed', ms: 300 },
      retrySchedule: 'test',
      rawCardData: 'reject',
      declineOnAttach: true,
      apiVersion: '2025-09-30.clover',
      publicUrl: 'http://sandbox.test',
    });
  });

  it('refuses malformed webhook specs', () => {
    expect(() => parseWebhookFlag('url=http://x')).toThrow(UsageError);
    expect(() => parseWebhookFlag('url=http://x,secret=s,colour=red')).toThrow(/unknown field/);
    expect(() => parseWebhookFlag('nonsense')).toThrow(/key=value/);
  });
});
