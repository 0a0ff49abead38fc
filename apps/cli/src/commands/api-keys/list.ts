import { BaseCommand } from '../../base-command.js';
import { accountFlag } from '../../flags.js';
import { toApiKeyView, type ApiKeyView } from '../../views.js';

export default class ApiKeysList extends BaseCommand<ApiKeyView[]> {
  static override description = "List an account's API keys (never their secrets).";

  static override flags = { account: accountFlag() };

  async run(): Promise<ApiKeyView[]> {
    const { flags } = await this.parse(ApiKeysList);
    const keys = (await (await this.accounts()).listApiKeys(flags.account)).map(toApiKeyView);
    for (const key of keys) {
      this.log(
        `${key.id}  ${key.role.padEnd(7)}  ${key.prefix}…  ${key.revoked ? `revoked ${key.revoked}` : 'active'}  ${key.name}`,
      );
    }
    return keys;
  }
}
