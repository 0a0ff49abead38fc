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
  /** What kind of actor: an API key, an operator at the CLI, or pay itself (a job, the seed). */
  readonly type: ActorType;
  /**
   * Who exactly: the key's id (`key_…`), the operator's name (`PAY_OPERATOR` or the OS user), or the job's
   * name.
   */
  readonly id: string;
  /** The API request it came in, so an audit row leads to its log lines; absent outside a request. */
  readonly requestId?: string;
}

/** What {@link AccountService} is built from. */
export interface AccountServiceDeps {
  /** Where accounts, keys and their audit rows are written, each change in one transaction. */
  readonly store: Store;
  /** The time stamped as a key's `revokedAt`. */
  readonly clock: Clock;
}

/** A newly made API key and its secret. The secret exists only here: pay stores its hash. */
export interface IssuedApiKey {
  /** The stored key: its id, role and display prefix, with only the hash of the secret. */
  readonly apiKey: ApiKey;
  /** The full secret (`psk_` and 40 characters), to hand to the key's owner now: it is never shown again. */
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

  /**
   * Creates an account (a new tenant, with no keys yet) and audits it as `account.created`; the name is
   * trimmed, 1 to 200 characters.
   */
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

  /**
   * The account's keys, revoked ones included (their `revokedAt` set); NotFoundError for an unknown account.
   */
  async listApiKeys(accountId: AccountId): Promise<ApiKey[]> {
    if ((await this.deps.store.repos.accounts.findById(accountId)) === null) {
      throw new NotFoundError(`No account ${accountId}.`, { param: 'account' });
    }
    return this.deps.store.repos.apiKeys.listByAccount(accountId);
  }

  /**
   * Revokes a key at once (its next request is `unauthenticated`) and audits it; revoking twice keeps the
   * first time. NotFoundError when the account has no such key.
   */
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
