import fs from 'node:fs';
import path from 'node:path';
import { isId, type AccountId, type Actor, type Logger, type Plan, type PlanId, type Store } from '@pay/core';
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
}

/**
 * Seeds the embedded default with a "Demo" account and a monthly and a yearly plan, once per data
 * folder. Runs through the core services, so every row has its audit entry (actor `system`).
 *
 * The repositories cannot look an account up by name, so `seed.json` in the data folder remembers the
 * demo account's id. It is written as soon as the account exists and before the plans are made: a
 * start interrupted after that finds the account and adds only the plans still missing (matched by
 * name), so plans are never duplicated. Only a crash between the account's commit and the file's
 * rename (a few microseconds) can leave a stray empty "Demo" account behind. Prints nothing: none of
 * this is secret, and it is logged at info.
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
  if (created) {
    logger.info('embedded demo data seeded', { accountId, planIds });
  }
  return { accountId, planIds, created };
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
