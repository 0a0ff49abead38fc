import { randomBytes } from 'node:crypto';
import { AccountService, PlanService, systemClock, type Actor } from '@pay/core';
import { connectPostgres, migratePostgres } from '@pay/db';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import {
  assertInvariants,
  formatReport,
  startSandbox,
  type InvariantContext,
  type InvariantReport,
  type Sandbox,
  type SandboxOptions,
} from '@pay/reliability';
import { postPayment, type Answer, type PaymentBody } from './client.js';
import { runCli, startApi, type ApiProcess, type CliRun } from './processes.js';

/*
 * One battery file's world: a fresh PostgreSQL database, a Stripe sandbox in THIS process (so it and its
 * ledger outlive every API process the test kills), one pay account with a service key and a plan, and
 * the environment that points the API and the CLI at them.
 */

const OPERATOR: Actor = { type: 'cli_operator', id: 'battery' };

/** The `pay recover --json` report. */
export interface RecoverResult {
  readonly run: CliRun;
  readonly report: {
    readonly keys_resumed: number;
    readonly payments_resolved: number;
    readonly keys_reaped: number;
    readonly failures: readonly { id: string; error: string }[];
  };
}

export interface Battery {
  readonly database: TestDatabase;
  readonly sandbox: Sandbox;
  /** The `sk_test_…` key pay uses: one sandbox account per battery file. */
  readonly stripeKey: string;
  readonly accountId: string;
  /** The service key's secret (`Authorization: Bearer …`). */
  readonly apiKey: string;
  readonly planId: string;
  readonly planAmount: number;
  readonly ctx: InvariantContext;
  /** The environment of the API and the CLI; `extra` wins. */
  env(extra?: Record<string, string>): Record<string, string>;
  startApi(extra?: Record<string, string>): Promise<ApiProcess>;
  /** A payment body for a fresh end user of the battery's plan. */
  body(overrides?: Partial<PaymentBody>): PaymentBody;
  post(api: ApiProcess, key: string, body: PaymentBody): Promise<Answer>;
  /** Runs `pay recover --json` (hang-guarded) and returns its report; throws when it cannot run. */
  recover(extra?: Record<string, string>): Promise<RecoverResult>;
  /** `pay recover`, then K1–K5: throws listing every violation, prints the clean report otherwise. */
  recoverAndCheck(label: string): Promise<InvariantReport>;
  close(): Promise<void>;
}

/** A unique idempotency key (pay wants 20–255 printable characters). */
export function newIdempotencyKey(label: string): string {
  const clean = label.replace(/[^A-Za-z0-9_-]+/g, '-');
  return `battery-${clean}-${randomBytes(12).toString('hex')}`;
}

export async function openBattery(scope: string, sandboxOptions: SandboxOptions = {}): Promise<Battery> {
  const database = await createTestDatabase(scope);
  await migratePostgres(database.url);
  // A real clock: pay lists a customer's intents `created >= payment.created_at` during recovery, which
  // a virtual clock frozen at start-up would put in the past.
  const sandbox = await startSandbox({ port: 0, clock: 'real', requestLogLimit: 200_000, ...sandboxOptions });
  const stripeKey = `sk_test_battery_${randomBytes(8).toString('hex')}`;

  const db = connectPostgres(database.url, { max: 2 });
  let accountId: string;
  let apiKey: string;
  let planId: string;
  const planAmount = 1_999;
  try {
    const accounts = new AccountService({ store: db.store, clock: systemClock });
    const plans = new PlanService({ store: db.store });
    const account = await accounts.createAccount(`battery ${scope}`, OPERATOR);
    const issued = await accounts.createApiKey(
      { accountId: account.id, name: 'battery', role: 'service' },
      OPERATOR,
    );
    const plan = await plans.createPlan(
      { accountId: account.id, name: 'Monthly', amount: planAmount, currency: 'usd', interval: 'month' },
      OPERATOR,
    );
    accountId = account.id;
    apiKey = issued.secret;
    planId = plan.id;
  } finally {
    await db.close();
  }

  const ctx: InvariantContext = {
    databaseUrl: database.url,
    sandbox: { url: sandbox.url, secretKey: stripeKey },
  };
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    STRIPE_SECRET_KEY: stripeKey,
    STRIPE_API_BASE: sandbox.url,
    PAY_RATE_LIMIT: '1000000',
    // Recovery runs only when a test says so (`pay recover`), never behind its back.
    PAY_WORKER: 'false',
    PAY_LOG_LEVEL: 'warn',
    PAY_RETURN_URL_ORIGINS: 'https://shop.example',
    // Fixed for every process: pay derives its 3-D Secure return URL, a parameter of each confirm, from
    // it, and the default (http://localhost:$PORT) would differ between the API and `pay recover`.
    API_BASE_URL: 'https://pay.battery.test',
    ...extra,
  });
  let users = 0;

  const battery: Battery = {
    database,
    sandbox,
    stripeKey,
    accountId,
    apiKey,
    planId,
    planAmount,
    ctx,
    env,
    startApi: (extra) => startApi(env(extra)),
    body: (overrides = {}) => ({
      user_id: `user-${++users}-${randomBytes(3).toString('hex')}`,
      plan_id: planId,
      payment_method_id: 'pm_card_visa',
      ...overrides,
    }),
    post: (api, key, body) => postPayment(api.url, apiKey, key, body),

    async recover(extra = {}) {
      const { PAY_FAULTS: _armed, ...clean } = env(extra);
      const run = await runCli(['recover', '--json'], clean);
      if (run.exit.code !== 0 && run.exit.code !== 1) {
        throw new Error(`pay recover ended ${JSON.stringify(run.exit)}:\n${run.stdout}\n${run.stderr}`);
      }
      let report: RecoverResult['report'];
      try {
        report = JSON.parse(run.stdout) as RecoverResult['report'];
      } catch {
        throw new Error(`pay recover printed no JSON report:\n${run.stdout}\n${run.stderr}`);
      }
      return { run, report };
    },

    async recoverAndCheck(label) {
      const { report } = await battery.recover();
      console.log(`[${label}] pay recover: ${JSON.stringify(report)}`);
      const checked = await assertInvariants(ctx);
      console.log(`[${label}] ${formatReport(checked)}`);
      return checked;
    },

    async close() {
      await sandbox.stop();
      await database.drop();
    },
  };
  return battery;
}
