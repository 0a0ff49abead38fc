import postgres from 'postgres';

/** A PostgreSQL server: a URL, or a unix socket path (postgres.js `path`, e.g. `/run/postgresql/.s.PGSQL.5432`). */
export type PostgresTarget = string | { path: string; database?: string; user?: string };

/** The role the service runs as (migration 0001): no UPDATE or DELETE on the ledger and the audit log. */
export const SERVICE_ROLE = 'pay_service';

/** Opens a postgres.js pool on `target` with `options`, whichever form the target takes. */
export function openPostgresClient(
  target: PostgresTarget,
  options: postgres.Options<Record<string, postgres.PostgresType>>,
): postgres.Sql {
  if (typeof target === 'string') {
    return postgres(target, options);
  }
  return postgres({
    ...options,
    path: target.path,
    ...(target.database === undefined ? {} : { database: target.database }),
    ...(target.user === undefined ? {} : { user: target.user }),
  });
}

/** Discards server notices (`schema "pay" already exists, skipping`, …) instead of printing them. */
export function ignoreNotice(): void {}
