import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from '@oclif/test';
import type { Payment } from '@pay/core';
import { CLI_ROOT } from './helpers';
import { openShop, type ShopWorld } from './shop';

/**
 * The CLI's contract with scripts, for every command, through the real `bin/run.js` in a process of its
 * own (so exit statuses, stdout and stderr are what a shell sees): `--help` exits 0 and shows an example;
 * a successful run exits 0 (or 1 where "ran, found problems" applies) and `--json` prints one JSON
 * document of the documented shape; a failing run exits with its status and prints one line
 * `Error: <message> (<code>)`, no stack trace. The table below has a row per command; a command without
 * one fails the test.
 */

const BIN = path.join(CLI_ROOT, 'bin', 'run.js');
/** A database nobody serves: a closed loopback port. */
const NOWHERE = 'postgres://postgres@127.0.0.1:1/nowhere';
/** A hang guard for one process (a cold start takes about 2 s here), not a timing assertion. */
const RUN_GUARD_MS = 60_000;

interface Run {
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** `pay <args>` as a shell runs it, with `env` over the test's environment. */
function pay(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: CLI_ROOT, env: { ...process.env, ...env }, timeout: RUN_GUARD_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const exit = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ exit, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

const iso = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
const str = expect.any(String);
const num = expect.any(Number);

/** null, or what `matcher` accepts. */
function nullOr(matcher: unknown): unknown {
  return {
    asymmetricMatch: (value: unknown) =>
      value === null ||
      (
        expect.objectContaining({ v: matcher }) as { asymmetricMatch(other: unknown): boolean }
      ).asymmetricMatch({
        v: value,
      }),
    toAsymmetricMatcher: () => 'null or a value',
  };
}

const apiKeyShape = {
  id: expect.stringMatching(/^key_/),
  account_id: expect.stringMatching(/^acc_/),
  name: str,
  role: expect.stringMatching(/^(service|admin)$/),
  prefix: str,
  created: iso,
  revoked: null,
};

const planShape = {
  id: expect.stringMatching(/^pln_/),
  account_id: expect.stringMatching(/^acc_/),
  name: str,
  amount: num,
  currency: str,
  interval: expect.stringMatching(/^(month|year)$/),
  active: expect.any(Boolean),
  created: iso,
};

/** What a test case can use: the world, and the objects the earlier rows made. */
interface Context {
  readonly world: ShopWorld;
  readonly made: Map<string, string>;
  readonly payment: Payment;
  /** The end user who paid `payment` (and holds its subscription). */
  readonly userId: string;
}

interface Contract {
  /** The successful run's arguments (with `--json` added) and the exit status it must have. */
  readonly success: (c: Context) => string[];
  readonly successExit?: number;
  /** The `--json` document, with asymmetric matchers for what varies. */
  readonly shape: (c: Context) => unknown;
  /** Keeps an id the later rows use. */
  readonly remember?: (c: Context, json: Record<string, unknown>) => void;
  /** The failing run: its arguments, environment, exit status and code. */
  readonly failure: (c: Context) => {
    args: string[];
    env?: Record<string, string>;
    exit: number;
    code: string;
  };
}

/** One row per command, in an order where each can use what the earlier ones made. */
const CONTRACTS: ReadonlyArray<readonly [string, Contract]> = [
  [
    'migrate',
    {
      success: () => ['migrate'],
      shape: () => ({ mode: 'postgres', applied: 0, total: num }),
      failure: () => ({
        args: ['migrate'],
        env: { DATABASE_URL: NOWHERE },
        exit: 2,
        code: 'dependency_unavailable',
      }),
    },
  ],
  [
    'status',
    {
      success: () => ['status'],
      shape: () => ({ mode: str, database: 'ok', migrations: { applied: num, total: num } }),
      failure: () => ({
        args: ['status'],
        env: { DATABASE_URL: NOWHERE },
        exit: 2,
        code: 'dependency_unavailable',
      }),
    },
  ],
  [
    'accounts create',
    {
      success: () => ['accounts', 'create', 'Contract'],
      shape: () => ({ id: expect.stringMatching(/^acc_/), name: 'Contract', created: iso }),
      remember: ({ made }, json) => made.set('account', String(json.id)),
      failure: () => ({ args: ['accounts', 'create'], exit: 2, code: 'invalid_request' }),
    },
  ],
  [
    'api-keys create',
    {
      success: ({ made }) => [
        'api-keys',
        'create',
        '--account',
        made.get('account') ?? '',
        '--role',
        'service',
        '--name',
        'contract',
      ],
      shape: () => ({ ...apiKeyShape, secret: expect.stringMatching(/^psk_/) }),
      remember: ({ made }, json) => made.set('key', String(json.id)),
      failure: () => ({
        args: [
          'api-keys',
          'create',
          '--account',
          `acc_${'0'.repeat(26)}`,
          '--role',
          'service',
          '--name',
          'x',
        ],
        exit: 2,
        code: 'not_found',
      }),
    },
  ],
  [
    'api-keys list',
    {
      success: ({ made }) => ['api-keys', 'list', '--account', made.get('account') ?? ''],
      shape: () => [apiKeyShape],
      failure: () => ({
        args: ['api-keys', 'list', '--account', 'cus_123'],
        exit: 2,
        code: 'invalid_request',
      }),
    },
  ],
  [
    'api-keys revoke',
    {
      success: ({ made }) => [
        'api-keys',
        'revoke',
        made.get('key') ?? '',
        '--account',
        made.get('account') ?? '',
      ],
      shape: () => ({ ...apiKeyShape, revoked: iso }),
      failure: ({ made }) => ({
        args: ['api-keys', 'revoke', `key_${'0'.repeat(26)}`, '--account', made.get('account') ?? ''],
        exit: 2,
        code: 'not_found',
      }),
    },
  ],
  [
    'plans create',
    {
      success: ({ made }) => [
        'plans',
        'create',
        '--account',
        made.get('account') ?? '',
        '--name',
        'Pro',
        '--amount',
        '1500',
        '--currency',
        'usd',
        '--interval',
        'month',
      ],
      shape: () => ({ ...planShape, name: 'Pro', amount: 1500, currency: 'usd', active: true }),
      failure: ({ made }) => ({
        args: ['plans', 'create', '--account', made.get('account') ?? '', '--name', 'Free', '--amount', '0'],
        exit: 2,
        code: 'invalid_request',
      }),
    },
  ],
  [
    'plans list',
    {
      success: ({ made }) => ['plans', 'list', '--account', made.get('account') ?? ''],
      shape: () => ({ object: 'list', data: [planShape], has_more: false }),
      failure: () => ({
        args: ['plans', 'list', '--account', `acc_${'0'.repeat(26)}`],
        exit: 2,
        code: 'not_found',
      }),
    },
  ],
  [
    'subscription-info',
    {
      success: ({ world, userId }) => ['subscription-info', userId, '--account', world.accountId],
      shape: ({ world, userId }) => ({
        account_id: world.accountId,
        user_id: userId,
        subscriptions: [
          expect.objectContaining({
            id: expect.stringMatching(/^subs_/),
            object: 'subscription',
            user_id: userId,
            status: 'active',
            plan: expect.objectContaining({ id: world.planId }),
            current_period_start: iso,
            current_period_end: iso,
            cancel_at_period_end: false,
          }),
        ],
      }),
      // Two accounts now: naming none is ambiguous.
      failure: () => ({ args: ['subscription-info', 'alice'], exit: 2, code: 'invalid_request' }),
    },
  ],
  [
    'process-refund',
    {
      success: ({ payment }) => ['process-refund', payment.id, '--amount', '100', '--yes'],
      shape: ({ world, payment }): unknown =>
        expect.objectContaining({
          id: expect.stringMatching(/^rfnd_/),
          object: 'refund',
          account_id: world.accountId,
          payment_id: payment.id,
          amount: 100,
          status: str,
          request_id: str,
          replayed: false,
        }),
      failure: () => ({
        args: ['process-refund', `pay_${'0'.repeat(26)}`, '--yes'],
        exit: 2,
        code: 'not_found',
      }),
    },
  ],
  [
    'reconcile',
    {
      success: () => ['reconcile', '--since', '1h'],
      shape: () => ({
        since: iso,
        until: iso,
        fix: false,
        payments_checked: num,
        intents_checked: num,
        counts: expect.any(Object),
        items: expect.any(Array),
        failures: [],
      }),
      failure: () => ({ args: ['reconcile', '--since', 'yesterday'], exit: 2, code: 'invalid_request' }),
    },
  ],
  [
    'recover',
    {
      success: () => ['recover'],
      shape: () => ({
        keys_resumed: num,
        payments_resolved: num,
        keys_reaped: num,
        refunds_resolved: num,
        webhook_catch_up: { listed: num, stored: num, already_known: num },
        failures: [],
      }),
      failure: () => ({
        args: ['recover'],
        env: { DATABASE_URL: NOWHERE },
        exit: 2,
        code: 'dependency_unavailable',
      }),
    },
  ],
  [
    'webhook-status',
    {
      success: () => ['webhook-status'],
      shape: () => ({
        counts: { pending: num, processed: num, failed: num, dead: num, ignored: num },
        oldest_pending: nullOr({ stripe_event_id: str, type: str, created: iso, received: iso }),
        lag_seconds: nullOr(num),
      }),
      failure: () => ({ args: ['webhook-status', '--pending', '--dead'], exit: 2, code: 'invalid_request' }),
    },
  ],
  [
    'webhooks replay',
    {
      success: () => ['webhooks', 'replay', '--dead'],
      shape: () => ({ replayed: num, event: null }),
      failure: () => ({ args: ['webhooks', 'replay', 'evt_neverreceived'], exit: 2, code: 'not_found' }),
    },
  ],
  [
    'worker',
    {
      success: () => ['worker', '--once'],
      shape: () => ({
        webhooks: { processed: num, ignored: num, failed: num, dead: num },
        webhook_catch_up: { listed: num, stored: num, already_known: num, failures: 0 },
        recovery: { keys_resumed: num, payments_resolved: num, keys_reaped: num, failures: 0 },
        refunds: { keys_resumed: num, refunds_resolved: num, failures: 0 },
        renewals: {
          attempted: num,
          renewed: num,
          failed: num,
          expired: num,
          canceled: num,
          waiting: num,
          failures: 0,
        },
      }),
      failure: () => ({ args: ['worker', '--once', '--idle-ms', '1'], exit: 2, code: 'invalid_request' }),
    },
  ],
];

/** The commands the build ships: `dist/commands/api-keys/create.js` is `api-keys create`. */
function shippedCommands(dir = path.join(CLI_ROOT, 'dist', 'commands'), prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) {
      return shippedCommands(path.join(dir, entry.name), `${prefix}${entry.name} `);
    }
    return entry.name.endsWith('.js') ? [`${prefix}${entry.name.slice(0, -3)}`] : [];
  });
}

/** Exactly one line on stderr, `Error: … (<code>)`, no stack trace, no colour (stderr is a pipe). */
function expectOneLineError(run: Run, code: string): void {
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  expect({
    lines: lines.length,
    stack: /\n\s+at /.test(run.stderr),
    ansi: run.stderr.includes('\u001b['),
  }).toEqual({
    lines: 1,
    stack: false,
    ansi: false,
  });
  expect(lines[0]).toMatch(new RegExp(`^Error: \\S.* \\(${code}\\)$`));
}

describe('the CLI contract: help, exit statuses, --json and one-line errors of every command', () => {
  let world: ShopWorld;
  let context: Context;
  const timings: string[] = [];

  beforeAll(async () => {
    world = await openShop({ name: 'contract' });
    const input = {
      accountId: world.accountId,
      userId: `user-${randomUUID()}`,
      planId: world.planId,
      paymentMethodId: 'pm_card_visa',
    };
    const { result } = await world.shop.services.payments.create(input, {
      accountId: world.accountId,
      key: randomUUID(),
      method: 'POST',
      path: '/api/v1/payments',
      params: input,
      requestId: `req_${randomUUID()}`,
    });
    if (result.kind !== 'succeeded') {
      throw new Error(`expected a paid payment, got ${result.kind}`);
    }
    context = { world, made: new Map(), payment: result.view.payment, userId: input.userId };
  });

  afterAll(async () => {
    process.stdout.write(`pay CLI contract, wall time per process:\n${timings.join('\n')}\n`);
    await world?.close();
  });

  it('has a contract row for every command the build ships, and none for a command it does not', () => {
    expect(CONTRACTS.map(([id]) => id).sort()).toEqual(shippedCommands().sort());
  });

  it('pay --help describes the exit statuses and lists every command', async () => {
    const run = await pay(['--help']);
    expect(run.exit).toBe(0);
    expect(run.stdout).toContain('Exit status: 0 success; 1 the command ran and found problems');
    for (const [id] of CONTRACTS) {
      expect(run.stdout).toContain(id.split(' ')[0]);
    }
  });

  // In-process (oclif's runner): help opens nothing, and a process per command would only add start-up time.
  it.each(CONTRACTS.map(([id]) => id))('pay %s --help succeeds and shows an example', async (id) => {
    const run = await runCommand([...id.split(' '), '--help'], { root: CLI_ROOT });
    const exit =
      run.error === undefined ? 0 : ((run.error as { oclif?: { exit?: number } }).oclif?.exit ?? 1);
    process.exitCode = undefined;
    expect(exit).toBe(0);
    expect(run.stdout).toContain('EXAMPLES');
    expect(run.stdout).toContain(`$ pay ${id}`);
  });

  // In table order: later rows use what earlier ones made (an account, a key).
  it.each(CONTRACTS)('pay %s: success, --json shape, failure', async (id, contract) => {
    const success = await pay([...contract.success(context), '--json']);
    timings.push(`  ${id} --json: ${success.ms} ms`);
    const all = `exit ${success.exit}\nstdout:\n${success.stdout}\nstderr:\n${success.stderr}`;
    expect({ exit: success.exit, all }).toEqual({ exit: contract.successExit ?? 0, all });
    const json = JSON.parse(success.stdout) as Record<string, unknown>;
    expect(json).toEqual(contract.shape(context));
    contract.remember?.(context, json);

    const failure = contract.failure(context);
    const failed = await pay(failure.args, failure.env);
    timings.push(`  ${id} failing: ${failed.ms} ms`);
    expect({ exit: failed.exit, stdout: failed.stdout }).toEqual({ exit: failure.exit, stdout: '' });
    expectOneLineError(failed, failure.code);

    // With --json the same failure is one document on stdout, with the same status.
    const failedJson = await pay([...failure.args, '--json'], failure.env);
    expect({ exit: failedJson.exit, stderr: failedJson.stderr }).toEqual({ exit: failure.exit, stderr: '' });
    const { error } = JSON.parse(failedJson.stdout) as { error: Record<string, unknown> };
    expect(error).toEqual({ code: failure.code, message: str, ...('param' in error ? { param: str } : {}) });
  });

  it('answers an unknown command and a refund asked without --yes under --json with their codes', async () => {
    const unknown = await pay(['nosuch']);
    expect(unknown.exit).toBe(2);
    expectOneLineError(unknown, 'command_not_found');

    const unasked = await pay(['process-refund', context.payment.id, '--json']);
    expect({ exit: unasked.exit, json: JSON.parse(unasked.stdout) as unknown }).toEqual({
      exit: 1,
      json: { error: { code: 'confirmation_required', message: expect.stringContaining('--yes') } },
    });
  });

  it('colours the error only when asked to (FORCE_COLOR), and never with NO_COLOR', async () => {
    const forced = await pay(['nosuch'], { FORCE_COLOR: '1' });
    expect(forced.stderr).toContain('\u001b[31mError:\u001b[39m');
    const plain = await pay(['nosuch'], { FORCE_COLOR: '1', NO_COLOR: '1' });
    expect(plain.stderr.startsWith('Error: ')).toBe(true);
  });
});
