import { connectPostgres, type Database } from '@pay/db';
import { createTestDatabase } from '@pay/db/testing';
import { parseId } from '@pay/core';
import { pay, payJson } from './helpers';

interface KeyJson {
  id: string;
  account_id: string;
  role: string;
  prefix: string;
  revoked: string | null;
  secret?: string;
}

describe('pay commands on PostgreSQL', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: Database;
  const saved = { ...process.env };

  beforeAll(async () => {
    database = await createTestDatabase('cli');
    process.env = { ...saved, DATABASE_URL: database.url, PAY_LOG_LEVEL: 'error', PAY_OPERATOR: 'ops-alice' };
  });

  afterAll(async () => {
    process.env = saved;
    await db?.close();
    await database.drop();
  });

  it('pay migrate applies every migration once, and a second run is a no-op', async () => {
    const first = await payJson<{ applied: number; total: number; mode: string }>(['migrate']);
    expect(first.mode).toBe('postgres');
    expect(first.applied).toBe(first.total);
    expect(first.total).toBeGreaterThan(0);
    const second = await payJson<{ applied: number }>(['migrate']);
    expect(second.applied).toBe(0);
    db = connectPostgres(database.url);
    expect(await db.migrationState()).toEqual({ applied: first.total, total: first.total });
  });

  it('pay status reports the mode, the database and the migrations', async () => {
    const status = await payJson<{
      mode: string;
      database: string;
      migrations: { applied: number; total: number };
    }>(['status']);
    expect(status).toMatchObject({ mode: 'postgres (SANDBOX)', database: 'ok' });
    expect(status.migrations.applied).toBe(status.migrations.total);
  });

  it('creates an account and issues, lists and revokes its keys, auditing each change with the operator', async () => {
    const account = await payJson<{ id: string; name: string }>(['accounts', 'create', 'Acme']);
    expect(account.name).toBe('Acme');
    const accountId = parseId('account', account.id);

    const issued = await payJson<KeyJson>([
      'api-keys',
      'create',
      '--account',
      accountId,
      '--role',
      'admin',
      '--name',
      'ops',
    ]);
    expect(issued).toMatchObject({ account_id: accountId, role: 'admin', revoked: null });
    expect(issued.secret).toMatch(/^psk_[0-9A-Za-z]{40}$/);
    expect(issued.secret?.startsWith(issued.prefix)).toBe(true);

    const listed = await payJson<KeyJson[]>(['api-keys', 'list', '--account', accountId]);
    expect(listed.map((k) => k.id)).toEqual([issued.id]);
    expect(JSON.stringify(listed)).not.toContain(issued.secret);

    const revoked = await payJson<KeyJson>(['api-keys', 'revoke', issued.id, '--account', accountId]);
    expect(revoked.revoked).not.toBeNull();

    const audit = await db.store.repos.audit.list(accountId, { limit: 10 });
    expect(audit.data.map((e) => e.action).sort()).toEqual([
      'account.created',
      'api_key.created',
      'api_key.revoked',
    ]);
    expect(audit.data.every((e) => e.actorType === 'cli_operator' && e.actorId === 'ops-alice')).toBe(true);
  });

  it('never stores the secret, only its hash', async () => {
    const account = await payJson<{ id: string }>(['accounts', 'create', 'HashCheck']);
    const issued = await payJson<KeyJson>([
      'api-keys',
      'create',
      '--account',
      account.id,
      '--role',
      'service',
      '--name',
      'svc',
    ]);
    const [stored] = await db.store.repos.apiKeys.listByAccount(parseId('account', account.id));
    expect(stored?.keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(issued.secret);
  });

  it('fails with the error code and exit status 2 when the account does not exist, writing nothing', async () => {
    const missing = 'acc_00000000000000000000000000';
    const run = await pay(['api-keys', 'create', '--account', missing, '--role', 'service', '--name', 'x']);
    expect(run.error?.message).toMatch(/No account .*\(not_found\)/);
    expect(run.error?.oclif?.exit).toBe(2);
    expect(await db.store.repos.apiKeys.listByAccount(parseId('account', missing))).toEqual([]);
  });

  it('rejects a malformed account id and an unknown role before touching the database', async () => {
    const badId = await pay(['api-keys', 'list', '--account', 'cus_123']);
    expect(badId.error?.message).toMatch(/not a valid account id/);
    const badRole = await pay([
      'api-keys',
      'create',
      '--account',
      'acc_00000000000000000000000000',
      '--role',
      'root',
      '--name',
      'x',
    ]);
    expect(badRole.error?.message).toMatch(/Expected --role=root to be one of: service, admin/);
  });
});
