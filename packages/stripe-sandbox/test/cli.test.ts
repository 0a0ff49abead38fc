import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Stripe from 'stripe';
import { rawRequest } from './harness.js';

/* The binary: `pay-stripe-sandbox`, spawned as built (`pnpm build` runs before `pnpm test`). */

const BIN = join(__dirname, '..', 'bin', 'pay-stripe-sandbox.js');

beforeAll(() => {
  if (!existsSync(join(__dirname, '..', 'dist', 'cli.js'))) {
    throw new Error('dist/cli.js is missing: run `pnpm build` before the CLI tests');
  }
});

/** Starts the binary and resolves with its URL once it printed it. */
function start(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^pay-stripe-sandbox listening on (http:\/\/\S+)$/m.exec(out);
      if (match?.[1] !== undefined) {
        resolve({ child, url: match[1], output: () => out });
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('exit', (code) => reject(new Error(`exited ${String(code)} before listening: ${out}${err}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 10_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

it('starts on 127.0.0.1, prints its URL, serves the SDK with the given key only, and stops on SIGTERM', async () => {
  const { child, url } = await start(['--port', '0', '--api-key', 'sk_test_cli_1', '--clock', 'virtual']);
  try {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(url).port);
    const stripe = new Stripe('sk_test_cli_1', {
      host: '127.0.0.1',
      port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    expect((await stripe.customers.create({ email: 'cli@example.com' })).email).toBe('cli@example.com');
    const other = new Stripe('sk_test_cli_2', {
      host: '127.0.0.1',
      port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    await expect(other.customers.list()).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((await rawRequest(url, 'GET', '/_sandbox/clock')).json.kind).toBe('virtual');
  } finally {
    expect(await stop(child)).toBe(0);
  }
});

it('takes static webhooks, rate limits and latency from flags', async () => {
  const { child, url } = await start([
    '-p',
    '0',
    '--webhook',
    'url=http://127.0.0.1:9/hooks,secret=whsec_cli,events=charge.succeeded|payment_intent.succeeded',
    '--rate-limits',
    '--latency',
    'lognormal:median=5,sigma=0.5,seed=42',
  ]);
  try {
    const faults = (await rawRequest(url, 'GET', '/_sandbox/faults')).json.data;
    expect(faults).toEqual([
      expect.objectContaining({ fault: expect.objectContaining({ kind: 'latency' }), remaining: null }),
    ]);
    expect((await rawRequest(url, 'GET', '/_sandbox/clock')).json.kind).toBe('real');
  } finally {
    await stop(child);
  }
});

it('prints usage for --help', () => {
  const { status, stdout } = run(['--help']);
  expect(status).toBe(0);
  expect(stdout).toMatch(/^Usage: pay-stripe-sandbox/);
});

it.each([
  [['--port', 'abc'], /--port must be an integer/],
  [['--port', '70000'], /--port must be an integer/],
  [['--clock', 'sometimes'], /--clock must be one of virtual, real/],
  [['--bogus'], /Unknown option '--bogus'/],
  [['extra'], /positional/i],
  [['--webhook', 'url=ftp://x,secret=s'], /--webhook needs url=/],
  [['--webhook', 'url=http://x'], /--webhook needs secret=/],
  [['--api-key', 'pk_test_123'], /--api-key must be a test-mode secret key/],
  [['--latency', 'lognormal:sigma=1'], /--latency: latency lognormal needs median/],
  [['--retry-schedule', 'weekly'], /--retry-schedule must be one of/],
  [['--port'], /argument missing|requires a value|--port/],
])('exits 2 with a message for %j', (args, message) => {
  const { status, stderr } = run(args);
  expect(status).toBe(2);
  expect(stderr).toMatch(message);
  expect(stderr).toContain('Run pay-stripe-sandbox --help for usage.');
});

it('exits 1 when the port is taken', async () => {
  const blocker = http.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  try {
    const { status, stderr } = run(['--port', String((blocker.address() as AddressInfo).port)]);
    expect(status).toBe(1);
    expect(stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});
