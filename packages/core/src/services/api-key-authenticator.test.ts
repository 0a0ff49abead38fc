import { createMemoryStore, type MemoryStore } from '../../test/memory/memory-store.js';
import { API_KEY_ROLES, type ApiKeyRole } from '../domain/statuses.js';
import { ForbiddenError } from '../errors.js';
import { AccountService } from './account-service.js';
import { ApiKeyAuthenticator, roleSatisfies, type AuthenticatedApiKey } from './api-key-authenticator.js';
import { generateApiKeySecret } from './api-key-secrets.js';

const operator = { type: 'cli_operator', id: 'ops' } as const;

describe('ApiKeyAuthenticator', () => {
  let memory: MemoryStore;
  let accounts: AccountService;
  let authenticator: ApiKeyAuthenticator;

  beforeEach(() => {
    memory = createMemoryStore();
    accounts = new AccountService({ store: memory.store, clock: { now: () => new Date() } });
    authenticator = new ApiKeyAuthenticator({ store: memory.store });
  });

  async function issue(role: ApiKeyRole) {
    const account = await accounts.createAccount('Acme', operator);
    return {
      account,
      ...(await accounts.createApiKey({ accountId: account.id, name: role, role }, operator)),
    };
  }

  it('authenticates an active key and names its account and role', async () => {
    const { account, apiKey, secret } = await issue('service');
    expect(await authenticator.authenticate(secret)).toEqual({
      kind: 'authenticated',
      caller: { apiKey, accountId: account.id, role: 'service' },
    });
  });

  it('refuses a secret without the psk_ shape before any lookup', async () => {
    for (const secret of ['', 'psk_short', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc', `psk_${'!'.repeat(40)}`]) {
      expect(await authenticator.authenticate(secret)).toEqual({ kind: 'rejected', reason: 'malformed_key' });
    }
    expect(memory.lookups.findActiveByHash).toBe(0);
  });

  it('refuses an unknown key and a revoked one alike', async () => {
    const { account, apiKey, secret } = await issue('admin');
    expect(await authenticator.authenticate(generateApiKeySecret())).toEqual({
      kind: 'rejected',
      reason: 'unknown_key',
    });
    await accounts.revokeApiKey(account.id, apiKey.id, operator);
    expect(await authenticator.authenticate(secret)).toEqual({ kind: 'rejected', reason: 'unknown_key' });
  });

  it('refuses a row whose stored hash does not match, whatever the lookup returned', async () => {
    const { secret } = await issue('service');
    const sloppy = new ApiKeyAuthenticator({
      store: {
        ...memory.store,
        repos: {
          ...memory.store.repos,
          apiKeys: {
            ...memory.store.repos.apiKeys,
            // A lookup that ignores its argument, as a misconfigured collation or prefix index might.
            findActiveByHash: () => Promise.resolve(memory.tables.apiKeys[0] ?? null),
          },
        },
      },
    });
    expect((await sloppy.authenticate(secret)).kind).toBe('authenticated');
    expect(await sloppy.authenticate(generateApiKeySecret())).toEqual({
      kind: 'rejected',
      reason: 'unknown_key',
    });
  });

  describe('roles', () => {
    it('lets admin keys do everything and service keys only service operations', () => {
      const table = API_KEY_ROLES.flatMap((role) =>
        API_KEY_ROLES.map((required) => [role, required, roleSatisfies(role, required)]),
      );
      expect(table).toEqual([
        ['service', 'service', true],
        ['service', 'admin', false],
        ['admin', 'service', true],
        ['admin', 'admin', true],
      ]);
    });

    async function callerOf(role: ApiKeyRole): Promise<AuthenticatedApiKey> {
      const { secret } = await issue(role);
      const result = await authenticator.authenticate(secret);
      if (result.kind !== 'authenticated') {
        throw new Error(`expected the ${role} key to authenticate`);
      }
      return result.caller;
    }

    it('lets an admin key through an admin operation and writes nothing', async () => {
      const caller = await callerOf('admin');
      const before = memory.tables.audit.length;
      await authenticator.authorize(caller, 'admin', {
        operation: 'POST /api/v1/refunds',
        requestId: 'req_1',
      });
      expect(memory.tables.audit).toHaveLength(before);
    });

    it('refuses a service key an admin operation, auditing the key, the operation and the request', async () => {
      const caller = await callerOf('service');
      const attempt = authenticator.authorize(caller, 'admin', {
        operation: 'POST /api/v1/refunds',
        requestId: 'req_2',
      });
      await expect(attempt).rejects.toBeInstanceOf(ForbiddenError);
      await expect(attempt).rejects.toThrow('This operation needs an API key with the admin role.');
      expect(memory.tables.audit.at(-1)).toMatchObject({
        accountId: caller.accountId,
        actorType: 'api_key',
        actorId: caller.apiKey.id,
        action: 'api_key.forbidden',
        targetType: 'api_key',
        targetId: caller.apiKey.id,
        details: { operation: 'POST /api/v1/refunds', role: 'service', required_role: 'admin' },
        requestId: 'req_2',
      });
    });
  });
});
