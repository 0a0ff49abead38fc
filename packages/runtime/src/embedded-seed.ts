import fs from 'node:fs';
import path from 'node:path';
import {
  isId,
  type AccountId,
  type Actor,
  type ApiKeyRole,
  type Logger,
  type Plan,
  type PlanId,
  type Store,
} from '@pay/core';
import { z } from 'zod';
import type { PayServices } from './services.js';

/** The file, inside the embedded data folder, that remembers which account the demo data went to. */
export const SEED_FILE = 'seed.json';

/** The account the embedded default's demo plans belong to. */
export const DEMO_ACCOUNT_NAME = 'Demo';

/** The demo plans: amounts in minor units (cents). */
export const DEMO_PLANS = [
  { name: 'Demo monthly', amount: 1500, currency: 'usd', interval: 'month' },
  { name: 'Demo yearly', amount: 15000, currency: 'usd', interval: 'year' },
] as const;

/** The names of the demo account's two API keys, by role. */
export const DEMO_API_KEY_NAMES: Readonly<Record<ApiKeyRole, string>> = {
  admin: 'Demo admin',
  service: 'Demo service',
};

const SEED_ACTOR: Actor = { type: 'system', id: 'embedded-seed' };

const ZSeedFile = z.object({
  demoAccountId: z.string().refine((value): value is AccountId => isId('account', value)),
});

/** What {@link seedEmbeddedDemo} found or made. */
export interface EmbeddedSeed {
  readonly accountId: AccountId;
  /** The demo plans' ids, in the order of {@link DEMO_PLANS}. */
  readonly planIds: readonly PlanId[];
  /** Whether this call created anything (false on every start after the first). */
  readonly created: boolean;
  /**
   * The secrets of the demo account's `admin` and `service` API keys, present only on the start that
   * issued them. pay keeps their hashes alone: whoever prints these is the only one who ever sees them.
   */
  readonly issuedKeys?: DemoApiKeys;
}

/** The secrets of the demo account's API keys, by role. */
export interface DemoApiKeys {
  readonly admin: string;
  readonly service: string;
}

/**
 * Seeds the embedded default with a "Demo" account, a monthly and a yearly plan, and an `admin` and a
 * `service` API key, once per data folder. Runs through the core services, so every row has its audit
 * entry (actor `system`). The keys' secrets are returned only by the call that issued them.
 *
 * The repositories cannot look an account up by name, so `seed.json` in the data folder remembers the
 * demo account's id. It is written as soon as the account exists and before the plans are made: a
 * start interrupted after that finds the account and adds only the plans still missing (matched by
 * name), so plans are never duplicated. Only a crash between the account's commit and the file's
 * rename (a few microseconds) can leave a stray empty "Demo" account behind.
 *
 * Keys are found by name, revoked ones included, so a key the operator revoked is not issued again. A
 * start interrupted between the two keys left one whose secret nobody saw: it is revoked and both are
 * issued afresh, so `issuedKeys` always holds a working pair. Logs ids and prefixes, never a secret, and
 * prints nothing: the caller decides where the secrets go.
 */
export async function seedEmbeddedDemo(
  dataDir: string,
  deps: { readonly store: Store; readonly services: PayServices; readonly logger: Logger },
): Promise<EmbeddedSeed> {
  const { services, logger } = deps;
  const remembered = readSeedFile(dataDir, logger);
  // The account may be gone: the file outlived a data folder that was wiped and recreated.
  const existing = remembered === undefined ? null : await deps.store.repos.accounts.findById(remembered);
  let accountId: AccountId;
  let created = existing === null;
  if (existing === null) {
    const account = await services.accounts.createAccount(DEMO_ACCOUNT_NAME, SEED_ACTOR);
    writeSeedFile(dataDir, account.id);
    accountId = account.id;
  } else {
    accountId = existing.id;
  }
  const plans = await listAllPlans(services, accountId);
  const planIds: PlanId[] = [];
  for (const demo of DEMO_PLANS) {
    const found = plans.find((plan) => plan.name === demo.name);
    if (found !== undefined) {
      planIds.push(found.id);
      continue;
    }
    planIds.push((await services.plans.createPlan({ accountId, ...demo }, SEED_ACTOR)).id);
    created = true;
  }
  const issuedKeys = await issueDemoKeys(services, accountId, logger);
  created ||= issuedKeys !== undefined;
  if (created) {
    logger.info('embedded demo data seeded', { accountId, planIds });
  }
  return { accountId, planIds, created, ...(issuedKeys === undefined ? {} : { issuedKeys }) };
}

/** Issues the demo keys unless both names already exist; see {@link seedEmbeddedDemo}. */
async function issueDemoKeys(
  services: PayServices,
  accountId: AccountId,
  logger: Logger,
): Promise<DemoApiKeys | undefined> {
  const names = new Set(Object.values(DEMO_API_KEY_NAMES));
  const existing = (await services.accounts.listApiKeys(accountId)).filter((key) => names.has(key.name));
  if (existing.some((key) => key.role === 'admin') && existing.some((key) => key.role === 'service')) {
    return undefined;
  }
  for (const orphan of existing.filter((key) => key.revokedAt === null)) {
    await services.accounts.revokeApiKey(accountId, orphan.id, SEED_ACTOR);
    logger.warn('revoked a demo API key whose secret an interrupted start never showed', {
      apiKeyId: orphan.id,
    });
  }
  const issue = (role: ApiKeyRole) =>
    services.accounts.createApiKey({ accountId, name: DEMO_API_KEY_NAMES[role], role }, SEED_ACTOR);
  const admin = await issue('admin');
  const service = await issue('service');
  logger.info('embedded demo API keys issued', {
    accountId,
    apiKeys: [admin, service].map(({ apiKey }) => ({
      id: apiKey.id,
      role: apiKey.role,
      prefix: apiKey.keyPrefix,
    })),
  });
  return { admin: admin.secret, service: service.secret };
}

async function listAllPlans(services: PayServices, accountId: AccountId): Promise<Plan[]> {
  const plans: Plan[] = [];
  let startingAfter: PlanId | undefined;
  for (;;) {
    const page = await services.plans.listPlans(accountId, { limit: 100, startingAfter });
    plans.push(...page.data);
    startingAfter = page.data.at(-1)?.id;
    if (!page.hasMore || startingAfter === undefined) {
      return plans;
    }
  }
}

function readSeedFile(dataDir: string, logger: Logger): AccountId | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dataDir, SEED_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = ZSeedFile.safeParse(json);
  if (!parsed.success) {
    logger.warn(`${SEED_FILE} is unreadable; seeding the demo data again`, { dataDir });
    return undefined;
  }
  return parsed.data.demoAccountId;
}

/** Atomically (temp file + rename), so a crash never leaves half a file. */
function writeSeedFile(dataDir: string, demoAccountId: AccountId): void {
  const file = path.join(dataDir, SEED_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify({ demoAccountId }, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temp, file);
}
