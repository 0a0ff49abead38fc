import { BaseCommand } from '../base-command.js';

export interface MigrateResult {
  mode: string;
  applied: number;
  total: number;
}

export default class Migrate extends BaseCommand<MigrateResult> {
  static override description =
    "Apply pay's migrations to the configured database (DATABASE_URL, else the embedded data folder). Applying twice is a no-op.";

  static override examples = [
    '<%= config.bin %> migrate',
    'DATABASE_URL=postgres://postgres@127.0.0.1/pay <%= config.bin %> migrate --json',
  ];

  async run(): Promise<MigrateResult> {
    await this.parse(Migrate);
    // Whatever PAY_MIGRATE says, this command is the explicit request to migrate.
    const pay = await this.pay({ migrate: true });
    const applied = pay.migrationsApplied;
    const state = await pay.db.migrationState();
    this.log(
      applied === 0
        ? `Database is up to date (${state.applied}/${state.total} migrations, ${pay.mode}).`
        : `Applied ${applied} migration(s); ${state.applied}/${state.total} now applied (${pay.mode}).`,
    );
    return { mode: pay.mode, applied, total: state.total };
  }
}
