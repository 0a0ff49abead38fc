import { createRequire } from 'node:module';
import type { Random } from './traffic-mix.js';

/*
 * RELIABILITY.md C3's fault: PostgreSQL sessions of pay's processes terminated (`pg_terminate_backend`)
 * at seeded moments, as a failover, an operator or a crashed pooler would. The battery's own reads
 * (application_name `pay-battery`) and the killer's session are spared.
 */

/** Which sessions one kill ends: every one of the database, or those inside a transaction, or running. */
export const KILL_TARGETS = ['any', 'in_transaction', 'active'] as const;
export type KillTarget = (typeof KILL_TARGETS)[number];

const STATE_FILTER: Record<KillTarget, string> = {
  any: '',
  // A transaction between two statements: the phase's first writes are made, not committed.
  in_transaction: "AND state IN ('idle in transaction', 'idle in transaction (aborted)')",
  active: "AND state = 'active'",
};

interface SqlClient {
  unsafe(query: string, parameters?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  end(options?: { timeout?: number }): Promise<void>;
}
type Postgres = (url: string, options: Record<string, unknown>) => SqlClient;
// postgres.js is @pay/db's dependency, not the API's (as in pay-sql.ts).
const postgres = createRequire(require.resolve('@pay/db/package.json'))('postgres') as Postgres;

/** What a killer did, for the printed figures. */
export interface KillReport {
  /** Kill rounds run, by target. */
  readonly rounds: Record<KillTarget, number>;
  /** Sessions terminated, by target. */
  readonly killed: Record<KillTarget, number>;
}

/** A running killer: `stop()` ends it after the round in flight and reports. */
export interface BackendKiller {
  stop(): Promise<KillReport>;
}

/**
 * Starts killing pay's sessions on `databaseUrl`: after a pause drawn from `pauseMs` (uniform), one
 * round terminates the sessions of a target drawn from {@link KILL_TARGETS}; until stopped.
 */
export function startBackendKiller(
  databaseUrl: string,
  random: Random,
  pauseMs: readonly [number, number],
): BackendKiller {
  const sql = postgres(databaseUrl, {
    max: 1,
    onnotice: () => undefined,
    connection: { application_name: 'pay-battery-killer' },
  });
  const rounds: Record<KillTarget, number> = { any: 0, in_transaction: 0, active: 0 };
  const killed: Record<KillTarget, number> = { any: 0, in_transaction: 0, active: 0 };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const pause = pauseMs[0] + Math.floor(random() * (pauseMs[1] - pauseMs[0]));
      const target = KILL_TARGETS[Math.floor(random() * KILL_TARGETS.length)] ?? 'any';
      await new Promise((resolve) => setTimeout(resolve, pause));
      if (stopped) {
        break;
      }
      const rows = await sql.unsafe(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()
           AND application_name NOT LIKE 'pay-battery%' ${STATE_FILTER[target]}`,
      );
      rounds[target] += 1;
      killed[target] += rows.filter((r) => r.killed === true).length;
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await sql.end({ timeout: 5 });
      return { rounds, killed };
    },
  };
}
