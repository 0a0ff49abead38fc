import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { toAccountView, type AccountView } from '../../views.js';

export default class AccountsCreate extends BaseCommand<AccountView> {
  static override description = 'Create an account: a tenant that owns API keys and every object they make.';

  static override examples = [
    '<%= config.bin %> accounts create "Acme Inc"',
    '<%= config.bin %> accounts create Acme --json',
  ];

  static override args = { name: Args.string({ required: true, description: 'A name for people' }) };

  async run(): Promise<AccountView> {
    const { args } = await this.parse(AccountsCreate);
    const account = await (await this.accounts()).createAccount(args.name, this.operator());
    this.log(`Created account ${account.id} (${account.name}).`);
    return toAccountView(account);
  }
}
