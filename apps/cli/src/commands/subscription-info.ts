import { Args } from '@oclif/core';
import {
  formatMoney,
  MAX_PAGE_LIMIT,
  NotFoundError,
  ValidationError,
  type AccountId,
  type SubscriptionView,
} from '@pay/core';
import { subscriptionJson, type SubscriptionJson } from '@pay/runtime';
import { BaseCommand } from '../base-command.js';
import { table } from '../table.js';
import { accountFlag } from '../flags.js';

/** One subscription as `--json` shows it: the HTTP API's subscription body. */
export type SubscriptionInfoEntry = SubscriptionJson;

/** The `--json` shape of `pay subscription-info`: whose subscriptions, in which account, newest first. */
export interface SubscriptionInfoView {
  account_id: string;
  user_id: string;
  subscriptions: SubscriptionInfoEntry[];
}

export default class SubscriptionInfo extends BaseCommand<SubscriptionInfoView> {
  static override description =
    "Show an end user's subscriptions: state, plan, current period, next billing, the card renewals go " +
    'to and the last payments (first payment, renewals, dunning retries). --account may be left out when ' +
    'pay has exactly one account.';

  static override examples = [
    '<%= config.bin %> subscription-info alice',
    '<%= config.bin %> subscription-info alice --account acc_… --json',
  ];

  static override args = {
    'user-id': Args.string({ required: true, description: "The caller's id of its end user (user_id)" }),
  };

  static override flags = {
    account: accountFlag({
      required: false,
      description: 'Account id (acc_…); required when pay has more than one account',
    }),
  };

  async run(): Promise<SubscriptionInfoView> {
    const { args, flags } = await this.parse(SubscriptionInfo);
    const userId = args['user-id'];
    const accountId = flags.account ?? (await this.onlyAccount());
    const subscriptions = (await this.pay()).services.subscriptions;
    const views: SubscriptionView[] = [];
    let startingAfter: string | undefined;
    for (;;) {
      const page = await subscriptions.listByUser(accountId, userId, {
        limit: MAX_PAGE_LIMIT,
        startingAfter,
      });
      views.push(...page.data);
      startingAfter = page.data.at(-1)?.subscription.id;
      if (!page.hasMore || startingAfter === undefined) {
        break;
      }
    }
    for (const line of describeSubscriptions(accountId, userId, views)) {
      this.log(line);
    }
    return { account_id: accountId, user_id: userId, subscriptions: views.map(subscriptionJson) };
  }

  /** The account to look in when none is named: the only one, or a refusal saying what to pass. */
  private async onlyAccount(): Promise<AccountId> {
    const { data } = await (await this.accounts()).listAccounts({ limit: 2 });
    const [only, another] = data;
    if (only === undefined) {
      throw new NotFoundError('pay has no account yet: create one with `pay accounts create`.', {
        param: 'account',
      });
    }
    if (another !== undefined) {
      throw new ValidationError('pay has several accounts: name one with --account acc_….', {
        param: 'account',
      });
    }
    return only.id;
  }
}

/** The human output: one row per subscription, then each one's last payments. */
function describeSubscriptions(
  accountId: AccountId,
  userId: string,
  views: readonly SubscriptionView[],
): string[] {
  if (views.length === 0) {
    return [`No subscriptions for user ${userId} in account ${accountId}.`];
  }
  const lines = [
    `${views.length} subscription${views.length === 1 ? '' : 's'} of user ${userId} in account ${accountId}:`,
    '',
    ...table(
      ['SUBSCRIPTION', 'STATUS', 'PLAN', 'PERIOD', 'NEXT BILLING', 'CARD'],
      views.map(({ subscription: s, plan, card }) => [
        s.id,
        s.cancelAtPeriodEnd ? `${s.status}, cancels at period end` : s.status,
        `${plan.name} (${formatMoney(plan)}/${plan.interval})`,
        `${day(s.currentPeriodStart)} → ${day(s.currentPeriodEnd)}`,
        s.nextBillingAt === null ? '-' : minute(s.nextBillingAt),
        card === null ? '-' : `${card.brand} •••• ${card.last4}`,
      ]),
    ),
  ];
  for (const { subscription, recentPayments } of views) {
    lines.push('', `Last payments of ${subscription.id}:`);
    if (recentPayments.length === 0) {
      lines.push('  none');
      continue;
    }
    const rows = recentPayments.map((p) => [
      p.id,
      p.status,
      formatMoney(p),
      p.billingReason,
      minute(p.createdAt),
      p.failureCode ?? '',
    ]);
    lines.push(
      ...table(['PAYMENT', 'STATUS', 'AMOUNT', 'REASON', 'CREATED', 'FAILURE'], rows).map((l) => `  ${l}`),
    );
  }
  return lines;
}

/** `2026-01-31`, in UTC. */
function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** `2026-01-31 14:05Z`: to the minute, in UTC. */
function minute(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}
