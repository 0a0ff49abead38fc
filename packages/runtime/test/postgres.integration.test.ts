import { silentLogger } from '@pay/core';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import { createPay, loadConfig } from '../src/index.js';

describe('createPay, PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('runtime_create_pay');
  });
  afterAll(async () => {
    await database.drop();
  });

  const open = (env: NodeJS.ProcessEnv = {}, role: 'api' | 'cli' = 'api') =>
    createPay(loadConfig({ DATABASE_URL: database.url, ...env }), { logger: silentLogger, role });

  it('leaves migrations alone with PAY_MIGRATE=false', async () => {
    const pay = await open({ PAY_MIGRATE: 'false' });
    try {
      expect(pay).toMatchObject({ mode: 'postgres', access: 'postgres', migrationsApplied: 0 });
      await pay.db.ping();
      const state = await pay.db.migrationState();
      expect(state.applied).toBeLessThan(state.total);
    } finally {
      await pay.close();
    }
  });

  it('migrates first, then serves the store', async () => {
    const pay = await open();
    try {
      expect(pay.migrationsApplied).toBeGreaterThan(0);
      const state = await pay.db.migrationState();
      expect(state).toEqual({ applied: state.total, total: state.total });
      const account = await pay.store.repos.accounts.create({ name: 'on postgres' });
      expect(await pay.store.repos.accounts.findById(account.id)).toEqual(account);
    } finally {
      await pay.close();
    }
    await pay.close(); // idempotent
  });

  it('applies nothing the second time, and the CLI role sees the same data', async () => {
    const api = await open();
    const cli = await open({}, 'cli');
    try {
      expect(api.migrationsApplied).toBe(0);
      expect(cli).toMatchObject({ role: 'cli', access: 'postgres', migrationsApplied: 0 });
      const account = await cli.store.repos.accounts.create({ name: 'from the cli' });
      expect(await api.store.repos.accounts.findById(account.id)).toEqual(account);
    } finally {
      await Promise.all([api.close(), cli.close()]);
    }
  });
});
