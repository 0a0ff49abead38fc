import { Args } from '@oclif/core';
import { parseId } from '@pay/core';
import { BaseCommand } from '../../base-command.js';
import { accountFlag } from '../../flags.js';
import { toApiKeyView, type ApiKeyView } from '../../views.js';

export default class ApiKeysRevoke extends BaseCommand<ApiKeyView> {
  static override description =
    'Revoke an API key at once: its next request gets 401. Revoking twice keeps the first time.';

  static override examples = ['<%= config.bin %> api-keys revoke key_… --account acc_…'];

  static override args = { id: Args.string({ required: true, description: 'API key id (key_…)' }) };

  static override flags = { account: accountFlag() };

  async run(): Promise<ApiKeyView> {
    const { args, flags } = await this.parse(ApiKeysRevoke);
    const id = parseId('apiKey', args.id, 'id');
    const key = await (await this.accounts()).revokeApiKey(flags.account, id, this.operator());
    this.log(`Revoked ${key.id}.`);
    return toApiKeyView(key);
  }
}
