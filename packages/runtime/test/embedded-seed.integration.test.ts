import fs from 'node:fs';
import path from 'node:path';
import type { AccountId, Logger, Plan } from '@pay/core';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import {
  createPay,
  DEMO_ACCOUNT_NAME,
  loadConfig,
  SEED_FILE,
  seedEmbeddedDemo,
  type Pay,
  type PayRole,
} from '../src/index.js';
import { makeTempDir } from './helpers.js';

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** A logger that keeps every line, so a test can see what a start reported. */
function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const make = (base: Record<string, unknown>): Logger => {
    const at =
      (level: string) =>
      (message: string, fields: Record<string, unknown> = {}): void => {
        lines.push({ level, message, fields: { ...base, ...fields } });
      };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return { logger: make({}), lines };
}

const seededLines = (lines: LogLine[]) => lines.filter((l) => l.message === 'embedded demo data seeded');

function readSeedFile(dir: string): { demoAccountId: AccountId } {
  return JSON.parse(fs.readFileSync(path.join(dir, SEED_FILE), 'utf8')) as { demoAccountId: AccountId };
}

async function plansOf(pay: Pay, accountId: AccountId): Promise<Plan[]> {
  return [...(await pay.services.plans.listPlans(accountId, { limit: 100 })).data];
}

function openEmbedded(dir: string, logger: Logger, role: PayRole = 'api'): Promise<Pay> {
  return createPay(loadConfig({ PAY_DATA_DIR: dir }), { logger, role });
}

const demoPlanShapes = (plans: Plan[]) =>
  plans
    .map(({ name, amount, currency, interval, active }) => ({ name, amount, currency, interval, active }))
    .sort((a, b) => a.amount - b.amount);

describe('the embedded demo seed', () => {
  const temp = makeTempDir();
  afterAll(() => temp.remove());

  it('seeds a Demo account with a monthly and a yearly plan on the first API start, and never again', async () => {
    const dir = path.join(temp.dir, 'twice');
    const first = recordingLogger();
    let pay = await openEmbedded(dir, first.logger);
    let accountId: AccountId;
    try {
      accountId = readSeedFile(dir).demoAccountId;
      expect(await pay.store.repos.accounts.findById(accountId)).toMatchObject({ name: DEMO_ACCOUNT_NAME });
      expect(demoPlanShapes(await plansOf(pay, accountId))).toEqual([
        { name: 'Demo monthly', amount: 1500, currency: 'usd', interval: 'month', active: true },
        { name: 'Demo yearly', amount: 15000, currency: 'usd', interval: 'year', active: true },
      ]);
      const audit = await pay.store.repos.audit.list(accountId, { limit: 10 });
      expect(audit.data.map((e) => [e.action, e.actorType, e.actorId]).sort()).toEqual([
        ['account.created', 'system', 'embedded-seed'],
        ['plan.created', 'system', 'embedded-seed'],
        ['plan.created', 'system', 'embedded-seed'],
      ]);
      expect(seededLines(first.lines)).toEqual([
        expect.objectContaining({ level: 'info', fields: { accountId, planIds: expect.any(Array) } }),
      ]);
    } finally {
      await pay.close();
    }

    const second = recordingLogger();
    pay = await openEmbedded(dir, second.logger);
    try {
      expect(readSeedFile(dir).demoAccountId).toBe(accountId);
      expect(await plansOf(pay, accountId)).toHaveLength(2);
      expect((await pay.store.repos.audit.list(accountId, { limit: 10 })).data).toHaveLength(3);
      expect(seededLines(second.lines)).toEqual([]);
    } finally {
      await pay.close();
    }
  });

  it('is not run by the CLI', async () => {
    const dir = path.join(temp.dir, 'cli-only');
    const pay = await openEmbedded(dir, recordingLogger().logger, 'cli');
    await pay.close();
    expect(fs.existsSync(path.join(dir, SEED_FILE))).toBe(false);
  });

  describe('resuming', () => {
    // The CLI role does not seed by itself, so each case sets the folder up and then calls the seed.
    let pay: Pay;
    const dir = path.join(temp.dir, 'resume');
    beforeAll(async () => {
      pay = await openEmbedded(dir, recordingLogger().logger, 'cli');
    });
    afterAll(() => pay.close());

    const seed = (logger: Logger = recordingLogger().logger) =>
      seedEmbeddedDemo(dir, { store: pay.store, services: pay.services, logger });

    it('adds only the plans a start interrupted after the account left missing', async () => {
      const operator = { type: 'system', id: 'test' } as const;
      const account = await pay.services.accounts.createAccount(DEMO_ACCOUNT_NAME, operator);
      fs.writeFileSync(path.join(dir, SEED_FILE), JSON.stringify({ demoAccountId: account.id }));
      const monthly = await pay.services.plans.createPlan(
        { accountId: account.id, name: 'Demo monthly', amount: 1500, currency: 'usd', interval: 'month' },
        operator,
      );

      const result = await seed();
      expect(result).toEqual({
        accountId: account.id,
        planIds: [monthly.id, expect.any(String)],
        created: true,
      });
      expect(demoPlanShapes(await plansOf(pay, account.id)).map((p) => p.name)).toEqual([
        'Demo monthly',
        'Demo yearly',
      ]);
      expect((await seed()).created).toBe(false);
      expect(await plansOf(pay, account.id)).toHaveLength(2);
    });

    it('seeds again when the remembered account no longer exists', async () => {
      fs.writeFileSync(
        path.join(dir, SEED_FILE),
        JSON.stringify({ demoAccountId: 'acc_00000000000000000000000000' }),
      );
      const result = await seed();
      expect(result.created).toBe(true);
      expect(readSeedFile(dir).demoAccountId).toBe(result.accountId);
      expect(await plansOf(pay, result.accountId)).toHaveLength(2);
    });

    it('warns about an unreadable seed file and seeds again', async () => {
      fs.writeFileSync(path.join(dir, SEED_FILE), '{"demoAccountId": ');
      const { logger, lines } = recordingLogger();
      const result = await seed(logger);
      expect(result.created).toBe(true);
      expect(lines).toContainEqual(
        expect.objectContaining({ level: 'warn', message: expect.stringContaining(SEED_FILE) }),
      );
      expect(readSeedFile(dir).demoAccountId).toBe(result.accountId);
    });
  });
});

describe('the embedded demo seed on PostgreSQL', () => {
  let database: TestDatabase;
  const temp = makeTempDir();
  beforeAll(async () => {
    database = await createTestDatabase('runtime_seed');
  });
  afterAll(async () => {
    await database.drop();
    temp.remove();
  });

  it('never runs: nothing seeded, no seed file even with PAY_DATA_DIR set', async () => {
    const { logger, lines } = recordingLogger();
    const pay = await createPay(loadConfig({ DATABASE_URL: database.url, PAY_DATA_DIR: temp.dir }), {
      logger,
    });
    await pay.close();
    expect(seededLines(lines)).toEqual([]);
    expect(fs.readdirSync(temp.dir)).toEqual([]);
  });
});
