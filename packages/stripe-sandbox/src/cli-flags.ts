import { parseArgs } from 'node:util';
import { parseLatency, LatencySpecError } from './faults/latency.js';
import type { SandboxOptions } from './options.js';
import type { StaticWebhookEndpoint } from './webhooks/hub.js';

/** A bad command line: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `Usage: pay-stripe-sandbox [options]

A stateful, Stripe-compatible API server for tests and development.

Options:
  -p, --port <n>              port to listen on (default 12111; 0 picks a free one)
      --host <host>           interface to bind (default 127.0.0.1)
      --clock <kind>          virtual (moves only when told, via /_sandbox/clock) or real (default)
      --api-key <key>         accept only this sk_test_… key (repeatable; each key is its own account);
                              without it, any sk_test_… key is accepted as its own account
      --webhook <spec>        static webhook endpoint (repeatable):
                              url=<http url>,secret=<whsec_…>[,events=<type>|<type>…][,account=<acct_…>]
      --rate-limits           enforce Stripe's rate limits (25/s per endpoint, 100/s in all, per account)
      --latency <spec>        latency on every API request: <ms>, fixed:<ms>,
                              lognormal:median=<ms>,sigma=<s>,seed=<n>[,min=<ms>,max=<ms>],
                              or uniform:min=<ms>,max=<ms>[,seed=<n>]
      --retry-schedule <name> webhook retries: fast (default), test or live
      --raw-card-data <mode>  accept (default) or reject raw card numbers
      --decline-on-attach     decline cards fail when attached to a customer
      --api-version <v>       default Stripe-Version of accounts
      --public-url <url>      base URL advertised in 3-D Secure redirects
  -h, --help                  show this help
      --version               print the version`;

/** What the command line asks for. */
export interface CliConfig {
  help: boolean;
  version: boolean;
  options: SandboxOptions;
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

/** Parses `url=…,secret=…[,events=a|b][,account=…]`. */
export function parseWebhookFlag(spec: string): StaticWebhookEndpoint {
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(`--webhook expects key=value pairs separated by commas, got "${part}"`);
    }
    const key = part.slice(0, eq).trim();
    if (!['url', 'secret', 'events', 'account'].includes(key)) {
      throw new UsageError(`--webhook: unknown field "${key}" (url, secret, events, account)`);
    }
    fields.set(key, part.slice(eq + 1).trim());
  }
  const url = fields.get('url');
  const secret = fields.get('secret');
  if (url === undefined || !/^https?:\/\/\S+$/.test(url)) {
    throw new UsageError('--webhook needs url=<http(s) URL>');
  }
  if (secret === undefined || secret === '') {
    throw new UsageError('--webhook needs secret=<whsec_…>');
  }
  const events = fields.get('events');
  const account = fields.get('account');
  return {
    url,
    secret,
    ...(events === undefined ? {} : { enabledEvents: events.split('|').filter((e) => e !== '') }),
    ...(account === undefined ? {} : { account }),
  };
}

/** Parses the command line into start options. Throws {@link UsageError}. */
export function parseCli(argv: readonly string[]): CliConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        clock: { type: 'string' },
        'api-key': { type: 'string', multiple: true },
        webhook: { type: 'string', multiple: true },
        'rate-limits': { type: 'boolean' },
        latency: { type: 'string' },
        'retry-schedule': { type: 'string' },
        'raw-card-data': { type: 'string' },
        'decline-on-attach': { type: 'boolean' },
        'api-version': { type: 'string' },
        'public-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const port = values.port === undefined ? 12_111 : Number(values.port);
  if (values.port !== undefined && (!/^\d+$/.test(values.port) || port > 65_535)) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got "${values.port}"`);
  }
  if (values.host !== undefined && values.host.trim() === '') {
    throw new UsageError('--host must not be empty');
  }
  for (const key of values['api-key'] ?? []) {
    if (!/^(sk|rk)_test_\S+$/.test(key)) {
      throw new UsageError(`--api-key must be a test-mode secret key (sk_test_… or rk_test_…), got "${key}"`);
    }
  }
  let latency: SandboxOptions['latency'];
  if (values.latency !== undefined) {
    try {
      latency = parseLatency(values.latency);
    } catch (error) {
      throw new UsageError(`--latency: ${error instanceof LatencySpecError ? error.message : String(error)}`);
    }
  }
  const clock = oneOf('clock', values.clock, ['virtual', 'real'] as const) ?? 'real';
  const retrySchedule = oneOf('retry-schedule', values['retry-schedule'], ['fast', 'test', 'live'] as const);
  const rawCardData = oneOf('raw-card-data', values['raw-card-data'], ['accept', 'reject'] as const);
  const options: SandboxOptions = {
    port,
    host: values.host ?? '127.0.0.1',
    clock,
    ...(values['api-key'] === undefined ? {} : { apiKeys: values['api-key'] }),
    ...(values.webhook === undefined ? {} : { webhookEndpoints: values.webhook.map(parseWebhookFlag) }),
    ...(values['rate-limits'] === true ? { rateLimits: true } : {}),
    ...(latency === undefined ? {} : { latency }),
    ...(retrySchedule === undefined ? {} : { retrySchedule }),
    ...(rawCardData === undefined ? {} : { rawCardData }),
    ...(values['decline-on-attach'] === true ? { declineOnAttach: true } : {}),
    ...(values['api-version'] === undefined ? {} : { apiVersion: values['api-version'] }),
    ...(values['public-url'] === undefined ? {} : { publicUrl: values['public-url'] }),
  };
  return { help: values.help === true, version: values.version === true, options };
}
