import type { Account, ApiKey, Page, Plan } from '@pay/core';

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

export interface PlanView {
  id: string;
  account_id: string;
  name: string;
  /** Minor units (cents for usd). */
  amount: number;
  currency: string;
  interval: string;
  active: boolean;
  created: string;
}

/** A page of a list, in the HTTP API's shape: pass the last id to `--starting-after` for the next one. */
export interface ListView<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
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

export function toPlanView(plan: Plan): PlanView {
  return {
    id: plan.id,
    account_id: plan.accountId,
    name: plan.name,
    amount: plan.amount,
    currency: plan.currency,
    interval: plan.interval,
    active: plan.active,
    created: plan.createdAt.toISOString(),
  };
}

export function toListView<T, V>(page: Page<T>, view: (item: T) => V): ListView<V> {
  return { object: 'list', data: page.data.map(view), has_more: page.hasMore };
}
