import type { Account, ApiKey } from '../domain/entities.js';
import type { ActorType, ApiKeyRole } from '../domain/statuses.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { AccountId, ApiKeyId } from '../ids.js';
import type { Clock } from '../ports/clock.js';
import type { Page, PageRequest } from '../ports/page.js';
import type { Store } from '../ports/store.js';
import { displayPrefix, generateApiKeySecret, hashApiKeySecret } from './api-key-secrets.js';

/** Who asks: recorded in the audit log with every change this service makes. */
export interface Actor {
  readonly type: ActorType;
  readonly id: string;
  readonly requestId?: string;
}

export interface AccountServiceDeps {
  readonly store: Store;
  readonly clock: Clock;
}

/** A newly made API key and its secret. The secret exists only here: pay stores its hash. */
export interface IssuedApiKey {
  readonly apiKey: ApiKey;
  readonly secret: string;
}

const MAX_NAME = 200;

function checkName(name: string, param: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_NAME) {
    throw new ValidationError(`The ${param} must be 1 to ${MAX_NAME} characters.`, { param });
  }
  return trimmed;
}

/** Accounts (pay's tenants) and their API keys. Each change writes its audit row in the same transaction. */
export class AccountService {
  constructor(private readonly deps: AccountServiceDeps) {}

  async createAccount(name: string, actor: Actor): Promise<Account> {
    const accountName = checkName(name, 'name');
    return this.deps.store.transaction(async (tx) => {
      const account = await tx.accounts.create({ name: accountName });
      await tx.audit.append({
        accountId: account.id,
        actorType: actor.type,
        actorId: actor.id,
        action: 'account.created',
        targetType: 'account',
        targetId: account.id,
        requestId: actor.requestId ?? null,
      });
      return account;
    });
  }

  /** Issues a key for the account. The returned secret is shown once and cannot be recovered. */
  async createApiKey(
    input: { accountId: AccountId; name: string; role: ApiKeyRole },
    actor: Actor,
  ): Promise<IssuedApiKey> {
    const keyName = checkName(input.name, 'name');
    const secret = generateApiKeySecret();
    const keyHash = await hashApiKeySecret(secret);
    const apiKey = await this.deps.store.transaction(async (tx) => {
      if ((await tx.accounts.findById(input.accountId)) === null) {
        throw new NotFoundError(`No account ${input.accountId}.`, { param: 'account' });
      }
      const created = await tx.apiKeys.create({
        accountId: input.accountId,
        name: keyName,
        role: input.role,
        keyHash,
        keyPrefix: displayPrefix(secret),
      });
      await tx.audit.append({
        accountId: input.accountId,
        actorType: actor.type,
        actorId: actor.id,
        action: 'api_key.created',
        targetType: 'api_key',
        targetId: created.id,
        details: { role: input.role, name: keyName },
        requestId: actor.requestId ?? null,
      });
      return created;
    });
    return { apiKey, secret };
  }

  async listApiKeys(accountId: AccountId): Promise<ApiKey[]> {
    if ((await this.deps.store.repos.accounts.findById(accountId)) === null) {
      throw new NotFoundError(`No account ${accountId}.`, { param: 'account' });
    }
    return this.deps.store.repos.apiKeys.listByAccount(accountId);
  }

  async revokeApiKey(accountId: AccountId, id: ApiKeyId, actor: Actor): Promise<ApiKey> {
    return this.deps.store.transaction(async (tx) => {
      const revoked = await tx.apiKeys.revoke(accountId, id, this.deps.clock.now());
      if (revoked === null) {
        throw new NotFoundError(`No API key ${id} in account ${accountId}.`, { param: 'id' });
      }
      await tx.audit.append({
        accountId,
        actorType: actor.type,
        actorId: actor.id,
        action: 'api_key.revoked',
        targetType: 'api_key',
        targetId: id,
        requestId: actor.requestId ?? null,
      });
      return revoked;
    });
  }

  /** Every account, newest first, a page at a time. */
  async listAccounts(page: PageRequest): Promise<Page<Account>> {
    return this.deps.store.repos.accounts.list(page);
  }
}
