import { BaseCommand } from '../base-command.js';

export interface StatusResult {
  mode: string;
  database: 'ok';
  migrations: { applied: number; total: number };
}

export default class Status extends BaseCommand<StatusResult> {
  static override description =
    'Show how pay is configured and whether its database is reachable and migrated.';

  async run(): Promise<StatusResult> {
    await this.parse(Status);
    const pay = await this.pay();
    await pay.db.ping();
    const migrations = await pay.db.migrationState();
    this.log(`mode:       ${pay.modeLabel}`);
    this.log('database:   ok');
    this.log(`migrations: ${migrations.applied}/${migrations.total} applied`);
    return { mode: pay.modeLabel, database: 'ok', migrations };
  }
}
