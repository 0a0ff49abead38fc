import { BaseCommand } from '../base-command.js';
import { table } from '../table.js';

export interface StatusResult {
  mode: string;
  database: 'ok';
  migrations: { applied: number; total: number };
}

export default class Status extends BaseCommand<StatusResult> {
  static override description =
    'Show how pay is configured (embedded or PostgreSQL, sandbox or real Stripe) and whether its database ' +
    'is reachable and migrated. Exits 2 with `dependency_unavailable` when the database does not answer.';

  static override examples = [
    '<%= config.bin %> status',
    'DATABASE_URL=postgres://postgres@127.0.0.1/pay <%= config.bin %> status --json',
  ];

  async run(): Promise<StatusResult> {
    await this.parse(Status);
    const pay = await this.pay();
    await pay.db.ping();
    const migrations = await pay.db.migrationState();
    const rows = [
      ['mode', pay.modeLabel],
      ['database', 'ok'],
      ['migrations', `${migrations.applied}/${migrations.total} applied`],
    ];
    for (const line of table(['SETTING', 'VALUE'], rows)) {
      this.log(line);
    }
    return { mode: pay.modeLabel, database: 'ok', migrations };
  }
}
