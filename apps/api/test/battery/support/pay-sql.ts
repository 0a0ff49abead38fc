import { createRequire } from 'node:module';

/*
 * Plain SQL on pay's database for the battery's own reads (as @pay/reliability reads pay's state): a
 * checker must not depend on pay's repositories being right. postgres.js is @pay/db's own dependency,
 * not the API's, so it is loaded from @pay/db's folder (as apps/api/bench/database.cjs does) and typed
 * here by the little of it the battery uses.
 */

export interface SqlClient {
  unsafe(query: string, parameters?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  end(options?: { timeout?: number }): Promise<void>;
}
type Postgres = (url: string, options: Record<string, unknown>) => SqlClient;

const requireFromDb = createRequire(require.resolve('@pay/db/package.json'));
// The module's CommonJS export is the connect function; its own types live in @pay/db's tree only.
const postgres = requireFromDb('postgres') as Postgres;

/**
 * Runs `fn` on a one-connection pool to `databaseUrl`, then closes it. `role` runs the connection as
 * that database role (a startup parameter, as @pay/db connects the service as `pay_service`).
 */
export async function withSql<T>(
  databaseUrl: string,
  fn: (sql: SqlClient) => Promise<T>,
  options: { readonly applicationName?: string; readonly role?: string } = {},
): Promise<T> {
  const sql = postgres(databaseUrl, {
    max: 1,
    onnotice: () => undefined,
    connection: {
      application_name: options.applicationName ?? 'pay-battery',
      ...(options.role === undefined ? {} : { role: options.role }),
    },
  });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export function text(value: unknown, column: string): string {
  if (typeof value !== 'string') {
    throw new Error(`expected text in ${column}, got ${typeof value}`);
  }
  return value;
}

export function textOrNull(value: unknown, column: string): string | null {
  return value === null ? null : text(value, column);
}

export function timeOrNull(value: unknown, column: string): Date | null {
  if (value !== null && !(value instanceof Date)) {
    throw new Error(`expected a timestamp in ${column}, got ${typeof value}`);
  }
  return value;
}

export function time(value: unknown, column: string): Date {
  const t = timeOrNull(value, column);
  if (t === null) {
    throw new Error(`expected a timestamp in ${column}, got null`);
  }
  return t;
}

/** An integer column (bigint columns arrive as strings from postgres.js; pay's amounts fit a double). */
export function int(value: unknown, column: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) {
    throw new Error(`expected an integer in ${column}, got ${String(value)}`);
  }
  return n;
}

export function intOrNull(value: unknown, column: string): number | null {
  return value === null ? null : int(value, column);
}
