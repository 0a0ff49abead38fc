import fs from 'node:fs';
import path from 'node:path';
import type { AccountId, Logger, Plan } from '@pay/core';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import {
  createPay,
  DEMO_ACCOUNT_NAME,
  DEMO_API_KEY_NAMES,
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

  it('seeds a Demo account with a monthly and a yearly plan and two API keys on the first API start, and never again', async () => {
    const dir = path.join(temp.dir, 'twice');
    const first = recordingLogger();
    let pay = await openEmbedded(dir, first.logger);
    let accountId: AccountId;
    let keys: { admin: string; service: string } | undefined;
    try {
      accountId = readSeedFile(dir).demoAccountId;
      expect(pay.embeddedSeed).toEqual({ accountId, planIds: expect.any(Array), created: true });
      expect(await pay.store.repos.accounts.findById(accountId)).toMatchObject({ name: DEMO_ACCOUNT_NAME });
      expect(demoPlanShapes(await plansOf(pay, accountId))).toEqual([
        { name: 'Demo monthly', amount: 1500, currency: 'usd', interval: 'month', active: true },
        { name: 'Demo yearly', amount: 15000, currency: 'usd', interval: 'year', active: true },
      ]);
      const audit = await pay.store.repos.audit.list(accountId, { limit: 10 });
      expect(audit.data.map((e) => [e.action, e.actorType, e.actorId]).sort()).toEqual([
        ['account.created', 'system', 'embedded-seed'],
        ['api_key.created', 'system', 'embedded-seed'],
        ['api_key.created', 'system', 'embedded-seed'],
        ['plan.created', 'system', 'embedded-seed'],
        ['plan.created', 'system', 'embedded-seed'],
      ]);
      expect(seededLines(first.lines)).toEqual([
        expect.objectContaining({ level: 'info', fields: { accountId, planIds: expect.any(Array) } }),
      ]);

      // The secrets are handed out once, and each authenticates as the Demo account with its role.
      keys = pay.takeIssuedKeys();
      expect(keys).toEqual({
        admin: expect.stringMatching(/^psk_/),
        service: expect.stringMatching(/^psk_/),
      });
      expect(pay.takeIssuedKeys()).toBeUndefined();
      for (const role of ['admin', 'service'] as const) {
        const result = await pay.services.authenticator.authenticate(keys?.[role] ?? '');
        expect(result).toMatchObject({ kind: 'authenticated', caller: { accountId, role } });
      }
      expect(
        (await pay.services.accounts.listApiKeys(accountId)).map(({ name, role, revokedAt }) => ({
          name,
          role,
          revokedAt,
        })),
      ).toEqual(
        expect.arrayContaining([
          { name: DEMO_API_KEY_NAMES.admin, role: 'admin', revokedAt: null },
          { name: DEMO_API_KEY_NAMES.service, role: 'service', revokedAt: null },
        ]),
      );
      // Logged by id and prefix, never by secret.
      const logged = JSON.stringify(first.lines);
      expect(logged).not.toContain(keys?.admin);
      expect(logged).not.toContain(keys?.service);
    } finally {
      await pay.close();
    }

    const second = recordingLogger();
    pay = await openEmbedded(dir, second.logger);
    try {
      expect(readSeedFile(dir).demoAccountId).toBe(accountId);
      expect(await plansOf(pay, accountId)).toHaveLength(2);
      expect((await pay.store.repos.audit.list(accountId, { limit: 10 })).data).toHaveLength(5);
      expect(seededLines(second.lines)).toEqual([]);
      expect(pay.embeddedSeed).toEqual({ accountId, planIds: expect.any(Array), created: false });
      expect(pay.takeIssuedKeys()).toBeUndefined();
      expect(await pay.services.accounts.listApiKeys(accountId)).toHaveLength(2);
      // The first start's keys still work.
      expect(await pay.services.authenticator.authenticate(keys?.service ?? '')).toMatchObject({
        kind: 'authenticated',
      });
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
        issuedKeys: { admin: expect.any(String), service: expect.any(String) },
      });
      expect(demoPlanShapes(await plansOf(pay, account.id)).map((p) => p.name)).toEqual([
        'Demo monthly',
        'Demo yearly',
      ]);
      expect(await seed()).toEqual({
        accountId: account.id,
        planIds: result.planIds,
        created: false,
      });
      expect(await plansOf(pay, account.id)).toHaveLength(2);
    });

    it('replaces a lone demo key an interrupted start issued, so both printed keys work', async () => {
      const operator = { type: 'system', id: 'test' } as const;
      const account = await pay.services.accounts.createAccount(DEMO_ACCOUNT_NAME, operator);
      fs.writeFileSync(path.join(dir, SEED_FILE), JSON.stringify({ demoAccountId: account.id }));
      const orphan = await pay.services.accounts.createApiKey(
        { accountId: account.id, name: DEMO_API_KEY_NAMES.admin, role: 'admin' },
        operator,
      );

      const { issuedKeys } = await seed();
      expect(issuedKeys).toEqual({ admin: expect.any(String), service: expect.any(String) });
      expect(await pay.services.authenticator.authenticate(orphan.secret)).toEqual({
        kind: 'rejected',
        reason: 'unknown_key',
      });
      for (const secret of [issuedKeys?.admin, issuedKeys?.service]) {
        expect(await pay.services.authenticator.authenticate(secret ?? '')).toMatchObject({
          kind: 'authenticated',
          caller: { accountId: account.id },
        });
      }
      const audit = (await pay.store.repos.audit.list(account.id, { limit: 20 })).data;
      expect(audit.filter((e) => e.action === 'api_key.revoked').map((e) => e.targetId)).toEqual([
        orphan.apiKey.id,
      ]);
    });

    it('does not issue demo keys again once the operator revoked them', async () => {
      const first = await seed();
      const keys = await pay.services.accounts.listApiKeys(first.accountId);
      for (const key of keys.filter((k) => k.revokedAt === null)) {
        await pay.services.accounts.revokeApiKey(first.accountId, key.id, { type: 'system', id: 'test' });
      }
      const again = await seed();
      expect(again.issuedKeys).toBeUndefined();
      expect(await pay.services.accounts.listApiKeys(first.accountId)).toHaveLength(keys.length);
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
