import { Flags } from '@oclif/core';
import { formatMoney, MAX_PAGE_LIMIT } from '@pay/core';
import { BaseCommand } from '../../base-command.js';
import { accountFlag } from '../../flags.js';
import { table } from '../../table.js';
import { toListView, toPlanView, type ListView, type PlanView } from '../../views.js';

export default class PlansList extends BaseCommand<ListView<PlanView>> {
  static override description =
    "List an account's plans, newest first, a page at a time (--json: the HTTP API's list shape).";

  static override examples = [
    '<%= config.bin %> plans list --account acc_…',
    '<%= config.bin %> plans list --account acc_… --limit 10 --starting-after pln_…',
  ];

  static override flags = {
    account: accountFlag(),
    limit: Flags.integer({
      min: 1,
      max: MAX_PAGE_LIMIT,
      default: MAX_PAGE_LIMIT,
      description: 'Plans per page',
    }),
    'starting-after': Flags.string({ description: 'The last plan id of the previous page (pln_…)' }),
  };

  async run(): Promise<ListView<PlanView>> {
    const { flags } = await this.parse(PlansList);
    const page = await (
      await this.plans()
    ).listPlans(flags.account, { limit: flags.limit, startingAfter: flags['starting-after'] });
    const rows = page.data.map((plan) => [
      plan.id,
      `${formatMoney(plan)}/${plan.interval}`,
      plan.active ? 'active' : 'inactive',
      plan.name,
    ]);
    const lines =
      rows.length === 0
        ? [`No plans in account ${flags.account}.`]
        : table(['ID', 'PRICE', 'STATE', 'NAME'], rows);
    for (const line of lines) {
      this.log(line);
    }
    const last = page.data.at(-1);
    if (page.hasMore && last !== undefined) {
      this.logToStderr(`More plans follow: add --starting-after ${last.id}`);
    }
    return toListView(page, toPlanView);
  }
}
