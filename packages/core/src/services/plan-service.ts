import type { Plan } from '../domain/entities.js';
import { PLAN_INTERVALS, type PlanInterval } from '../domain/statuses.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { parseId, type AccountId } from '../ids.js';
import { money, parseCurrency } from '../money.js';
import type { Page, PageRequest } from '../ports/page.js';
import type { Store } from '../ports/store.js';
import type { Actor } from './account-service.js';
import { checkPageRequest } from './page-limits.js';

/** What {@link PlanService.createPlan} takes: values from outside, checked there. */
export interface CreatePlanInput {
  /** The account the plan is made in; only that account's payments can use it. */
  readonly accountId: AccountId;
  /** Shown to people (the account's own label); trimmed, 1 to 200 characters. */
  readonly name: string;
  /** Minor units (cents for usd): a positive integer, never a float. */
  readonly amount: number;
  /** An ISO-4217 code in any case; stored lowercase. */
  readonly currency: string;
  /** One of {@link PLAN_INTERVALS}. */
  readonly interval: string;
}

/** What {@link PlanService} is built from. */
export interface PlanServiceDeps {
  /** Where plans are stored and listed. */
  readonly store: Store;
}

const MAX_PLAN_NAME = 200;

function checkPlanName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_PLAN_NAME) {
    throw new ValidationError(`The name must be 1 to ${MAX_PLAN_NAME} characters.`, { param: 'name' });
  }
  return trimmed;
}

function parseInterval(value: string): PlanInterval {
  const interval = PLAN_INTERVALS.find((known) => known === value);
  if (interval === undefined) {
    throw new ValidationError(`The interval must be one of ${PLAN_INTERVALS.join(', ')}.`, {
      param: 'interval',
    });
  }
  return interval;
}

/** Plans: what subscriptions sell, an amount of money per interval. Every plan belongs to one account. */
export class PlanService {
  constructor(private readonly deps: PlanServiceDeps) {}

  /**
   * Creates a plan after checking every field (the amount with {@link money}: an integer of minor
   * units within Stripe's limit and the currency's rules), and writes its audit row in the same
   * transaction. Throws a ValidationError naming the field, or a NotFoundError for an unknown account;
   * nothing is written then.
   */
  async createPlan(input: CreatePlanInput, actor: Actor): Promise<Plan> {
    const name = checkPlanName(input.name);
    const price = money(input.amount, parseCurrency(input.currency));
    const interval = parseInterval(input.interval);
    return this.deps.store.transaction(async (tx) => {
      if ((await tx.accounts.findById(input.accountId)) === null) {
        throw new NotFoundError(`No account ${input.accountId}.`, { param: 'account' });
      }
      const plan = await tx.plans.create({ accountId: input.accountId, name, ...price, interval });
      await tx.audit.append({
        accountId: input.accountId,
        actorType: actor.type,
        actorId: actor.id,
        action: 'plan.created',
        targetType: 'plan',
        targetId: plan.id,
        amount: plan.amount,
        currency: plan.currency,
        details: { name, interval },
        requestId: actor.requestId ?? null,
      });
      return plan;
    });
  }

  /**
   * The account's plans, newest first, one page at a time (`startingAfter`: the last plan id of the
   * previous page). Throws a NotFoundError for an unknown account.
   */
  async listPlans(accountId: AccountId, page: PageRequest): Promise<Page<Plan>> {
    const { limit, startingAfter } = checkPageRequest(page);
    const cursor = startingAfter === undefined ? undefined : parseId('plan', startingAfter, 'starting_after');
    const { repos } = this.deps.store;
    if ((await repos.accounts.findById(accountId)) === null) {
      throw new NotFoundError(`No account ${accountId}.`, { param: 'account' });
    }
    return repos.plans.list(accountId, { limit, startingAfter: cursor });
  }

  /** The account's plan `id`; a plan of another account is not found, exactly like one that never existed. */
  async getPlan(accountId: AccountId, id: string): Promise<Plan> {
    const planId = parseId('plan', id, 'id');
    const plan = await this.deps.store.repos.plans.findById(accountId, planId);
    if (plan === null) {
      throw new NotFoundError(`No such plan: ${planId}.`, { param: 'id' });
    }
    return plan;
  }
}
