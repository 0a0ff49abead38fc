import { BaseCommand } from '../../base-command.js';
import { accountFlag } from '../../flags.js';
import { table } from '../../table.js';
import { toApiKeyView, type ApiKeyView } from '../../views.js';

export default class ApiKeysList extends BaseCommand<ApiKeyView[]> {
  static override description =
    "List an account's API keys, revoked ones included: id, role, the secret's first characters (to tell " +
    'keys apart; never the secret itself), state and name.';

  static override examples = [
    '<%= config.bin %> api-keys list --account acc_…',
    '<%= config.bin %> api-keys list --account acc_… --json',
  ];

  static override flags = { account: accountFlag() };

  async run(): Promise<ApiKeyView[]> {
    const { flags } = await this.parse(ApiKeysList);
    const keys = (await (await this.accounts()).listApiKeys(flags.account)).map(toApiKeyView);
    if (keys.length === 0) {
      this.log(`No API keys in account ${flags.account}: create one with \`pay api-keys create\`.`);
      return keys;
    }
    const rows = keys.map((key) => [
      key.id,
      key.role,
      `${key.prefix}…`,
      key.revoked === null ? 'active' : `revoked ${key.revoked}`,
      key.name,
    ]);
    for (const line of table(['ID', 'ROLE', 'PREFIX', 'STATE', 'NAME'], rows)) {
      this.log(line);
    }
    return keys;
  }
}
