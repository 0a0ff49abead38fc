import type { Account, ApiKey } from '@pay/core';

/** The `--json` shapes of CLI output: snake_case and ISO times, like the HTTP API. */
export interface AccountView {
  id: string;
  name: string;
  created: string;
}

export interface ApiKeyView {
  id: string;
  account_id: string;
  name: string;
  role: string;
  prefix: string;
  created: string;
  revoked: string | null;
}

export function toAccountView(account: Account): AccountView {
  return { id: account.id, name: account.name, created: account.createdAt.toISOString() };
}

export function toApiKeyView(key: ApiKey): ApiKeyView {
  return {
    id: key.id,
    account_id: key.accountId,
    name: key.name,
    role: key.role,
    prefix: key.keyPrefix,
    created: key.createdAt.toISOString(),
    revoked: key.revokedAt?.toISOString() ?? null,
  };
}
