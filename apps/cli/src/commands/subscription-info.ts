import { Args } from '@oclif/core';
import {
  formatMoney,
  MAX_PAGE_LIMIT,
  NotFoundError,
  ValidationError,
  type AccountId,
  type Payment,
  type SubscriptionView,
} from '@pay/core';
import { BaseCommand } from '../base-command.js';
import { accountFlag } from '../flags.js';

/** One of the user's payments as `--json` shows it (snake_case, ISO times, minor units). */
export interface SubscriptionPaymentView {
  id: string;
  status: string;
  amount: number;
  currency: string;
  billing_reason: string;
  created: string;
  failure_code: string | null;
}

/** One subscription as `--json` shows it: the HTTP API's subscription body. */
export interface SubscriptionInfoEntry {
  id: string;
  object: 'subscription';
  user_id: string;
  status: string;
  plan: { id: string; name: string; amount: number; currency: string; interval: string };
  current_period_start: string;
  current_period_end: string;
  next_billing_at: string | null;
  cancel_at_period_end: boolean;
  canceled_at: string | null;
  ended_at: string | null;
  payment_method: { brand: string; last4: string } | null;
  recent_payments: SubscriptionPaymentView[];
  created: string;
}

/** The `--json` shape of `pay subscription-info`: whose subscriptions, in which account, newest first. */
export interface SubscriptionInfoView {
  account_id: string;
  user_id: string;
  subscriptions: SubscriptionInfoEntry[];
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

function toPaymentView(p: Payment): SubscriptionPaymentView {
  return {
    id: p.id,
    status: p.status,
    amount: p.amount,
    currency: p.currency,
    billing_reason: p.billingReason,
    created: p.createdAt.toISOString(),
    failure_code: p.failureCode,
  };
}

export function toSubscriptionInfoEntry(view: SubscriptionView): SubscriptionInfoEntry {
  const { subscription: s, plan, card } = view;
  return {
    id: s.id,
    object: 'subscription',
    user_id: view.userId,
    status: s.status,
    plan: {
      id: plan.id,
      name: plan.name,
      amount: plan.amount,
      currency: plan.currency,
      interval: plan.interval,
    },
    current_period_start: s.currentPeriodStart.toISOString(),
    current_period_end: s.currentPeriodEnd.toISOString(),
    next_billing_at: iso(s.nextBillingAt),
    cancel_at_period_end: s.cancelAtPeriodEnd,
    canceled_at: iso(s.canceledAt),
    ended_at: iso(s.endedAt),
    payment_method: card === null ? null : { brand: card.brand, last4: card.last4 },
    recent_payments: view.recentPayments.map(toPaymentView),
    created: s.createdAt.toISOString(),
  };
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
    return { account_id: accountId, user_id: userId, subscriptions: views.map(toSubscriptionInfoEntry) };
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

/** Left-aligned columns two spaces apart; the last column is not padded. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}
