import { Flags } from '@oclif/core';
import { formatMoney, PLAN_INTERVALS } from '@pay/core';
import { BaseCommand } from '../../base-command.js';
import { accountFlag } from '../../flags.js';
import { toPlanView, type PlanView } from '../../views.js';

export default class PlansCreate extends BaseCommand<PlanView> {
  static override description =
    'Create a plan: an amount charged every month or year. The amount is in minor units (1500 usd is $15.00).';

  static override examples = [
    '<%= config.bin %> plans create --account acc_… --name "Pro monthly" --amount 1500 --currency usd --interval month',
  ];

  static override flags = {
    account: accountFlag(),
    name: Flags.string({ required: true, description: 'A name for people' }),
    amount: Flags.integer({
      required: true,
      description: 'Price in minor units of the currency: cents for usd (1500 = 15.00 USD), yen for jpy',
    }),
    currency: Flags.string({ required: true, description: 'ISO-4217 code, such as usd or eur' }),
    interval: Flags.string({
      options: [...PLAN_INTERVALS],
      required: true,
      description: 'How often it bills',
    }),
  };

  async run(): Promise<PlanView> {
    const { flags } = await this.parse(PlansCreate);
    const plan = await (
      await this.plans()
    ).createPlan(
      {
        accountId: flags.account,
        name: flags.name,
        amount: flags.amount,
        currency: flags.currency,
        interval: flags.interval,
      },
      this.operator(),
    );
    this.log(`Created plan ${plan.id} (${plan.name}): ${formatMoney(plan)} per ${plan.interval}.`);
    return toPlanView(plan);
  }
}
