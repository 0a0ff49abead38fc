import type { ApiKey } from '../domain/entities.js';
import type { ApiKeyRole } from '../domain/statuses.js';
import { assertNever, ForbiddenError } from '../errors.js';
import type { AccountId } from '../ids.js';
import type { Store } from '../ports/store.js';
import { hashApiKeySecret, isApiKeySecret } from './api-key-secrets.js';
import { constantTimeEqual } from './constant-time.js';

/** Who is calling, once a presented secret matched an active key: everything a route may act on. */
export interface AuthenticatedApiKey {
  /**
   * The matched key, never revoked at the time of the lookup; its `id` is the audit actor of what the caller
   * does.
   */
  readonly apiKey: ApiKey;
  /** The key's account: the only account whose objects this caller sees (DESIGN.md §7). */
  readonly accountId: AccountId;
  /** What the key may do; check it with {@link roleSatisfies}. */
  readonly role: ApiKeyRole;
}

/**
 * Why a presented secret was refused. `unknown_key` covers revoked keys too: the lookup only finds
 * active ones, so pay itself cannot tell the two apart at this point, and neither can a caller.
 */
export type AuthenticationRejection = 'malformed_key' | 'unknown_key';

/** The outcome of {@link ApiKeyAuthenticator.authenticate}: a refusal is expected, not an exception. */
export type AuthenticationResult =
  | { readonly kind: 'authenticated'; readonly caller: AuthenticatedApiKey }
  | { readonly kind: 'rejected'; readonly reason: AuthenticationRejection };

/** What a refused operation was, for the audit row. */
export interface AuthorizationContext {
  /** The operation attempted, without ids or query: `GET /api/v1/refunds/:id`. */
  readonly operation: string;
  /** The request's id, recorded on the audit row so it leads to the request's log lines. */
  readonly requestId?: string;
}

/** True when a key of `role` may perform an operation that needs `required`: admin keys may do everything. */
export function roleSatisfies(role: ApiKeyRole, required: ApiKeyRole): boolean {
  switch (required) {
    case 'service':
      return true;
    case 'admin':
      return role === 'admin';
    default:
      return assertNever(required, 'API key role');
  }
}

/** What {@link ApiKeyAuthenticator} is built from. */
export interface ApiKeyAuthenticatorDeps {
  /** Where keys are looked up by hash, and refused operations are audited. */
  readonly store: Store;
}

// Compared against when no key matched, so a miss does the same work as a hit (see authenticate).
const NO_MATCH_HASH = '0'.repeat(64);

/** Authenticates API key secrets and checks their roles (DESIGN.md §7). */
export class ApiKeyAuthenticator {
  constructor(private readonly deps: ApiKeyAuthenticatorDeps) {}

  /**
   * Finds the active key whose secret this is. The secret is hashed (pay stores only SHA-256 hashes)
   * and looked up by hash; the stored hash is then compared with the computed one in constant time,
   * so the answer never depends on how much of a guess was right, whatever the database's index and
   * collation do. A secret without the `psk_` shape is refused before any lookup.
   */
  async authenticate(secret: string): Promise<AuthenticationResult> {
    if (!isApiKeySecret(secret)) {
      return { kind: 'rejected', reason: 'malformed_key' };
    }
    const keyHash = await hashApiKeySecret(secret);
    const found = await this.deps.store.repos.apiKeys.findActiveByHash(keyHash);
    const matches = constantTimeEqual(found?.keyHash ?? NO_MATCH_HASH, keyHash);
    if (found === null || !matches || found.revokedAt !== null) {
      return { kind: 'rejected', reason: 'unknown_key' };
    }
    return { kind: 'authenticated', caller: { apiKey: found, accountId: found.accountId, role: found.role } };
  }

  /**
   * Lets the operation through when the caller's role suffices. Otherwise writes the refusal to the
   * audit log (the key, the operation and the request id, so an operator can see who probed what) and
   * throws a {@link ForbiddenError}.
   */
  async authorize(
    caller: AuthenticatedApiKey,
    required: ApiKeyRole,
    context: AuthorizationContext,
  ): Promise<void> {
    if (roleSatisfies(caller.role, required)) {
      return;
    }
    await this.deps.store.repos.audit.append({
      accountId: caller.accountId,
      actorType: 'api_key',
      actorId: caller.apiKey.id,
      action: 'api_key.forbidden',
      targetType: 'api_key',
      targetId: caller.apiKey.id,
      details: { operation: context.operation, role: caller.role, required_role: required },
      requestId: context.requestId ?? null,
    });
    throw new ForbiddenError(`This operation needs an API key with the ${required} role.`, {
      context: { apiKeyId: caller.apiKey.id, required },
    });
  }
}
