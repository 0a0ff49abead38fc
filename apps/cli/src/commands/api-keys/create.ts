import { Flags } from '@oclif/core';
import { API_KEY_ROLES } from '@pay/core';
import { BaseCommand } from '../../base-command.js';
import { accountFlag } from '../../flags.js';
import { toApiKeyView, type ApiKeyView } from '../../views.js';

export default class ApiKeysCreate extends BaseCommand<ApiKeyView & { secret: string }> {
  static override description =
    'Issue an API key for an account. The secret is printed once; pay keeps only its hash.';

  static override examples = [
    '<%= config.bin %> api-keys create --account acc_… --role admin --name ops',
    '<%= config.bin %> api-keys create --account acc_… --role service --name checkout --json',
  ];

  static override flags = {
    account: accountFlag(),
    role: Flags.string({
      options: [...API_KEY_ROLES],
      required: true,
      description: 'service takes payments; admin also refunds',
    }),
    name: Flags.string({ required: true, description: 'What the key is for' }),
  };

  async run(): Promise<ApiKeyView & { secret: string }> {
    const { flags } = await this.parse(ApiKeysCreate);
    const role = flags.role === 'admin' ? 'admin' : 'service';
    const { apiKey, secret } = await (
      await this.accounts()
    ).createApiKey({ accountId: flags.account, name: flags.name, role }, this.operator());
    this.logToStderr(`Created ${apiKey.role} key ${apiKey.id}. Store the secret now: it is not shown again.`);
    this.log(secret);
    return { ...toApiKeyView(apiKey), secret };
  }
}
