import postgres from 'postgres';

/*
 * RELIABILITY.md A7's hook: PostgreSQL itself fails chosen statements of pay's phase transactions with
 * a serialization failure (40001) or a deadlock (40P01), through triggers in a schema of the test's own
 * (`pay_faults`). pay's code is untouched and sees exactly the error the server would raise. Counters
 * are sequences because `nextval` survives the rollback the injected error causes. For test databases
 * only: installing writes DDL.
 */

const SCHEMA = 'pay_faults';

/** The statements a fault can fail, each in a different phase transaction of the payment flow. */
export const TRANSACTION_FAULT_TARGETS = {
  /** The first phase: the payment row's INSERT, beside the key and the subscription. */
  payment_insert: { event: 'INSERT', when: 'true' },
  /** The phase that records the PaymentIntent's id. */
  intent_recorded: {
    event: 'UPDATE',
    when: 'OLD.stripe_payment_intent_id IS NULL AND NEW.stripe_payment_intent_id IS NOT NULL',
  },
  /** The phase that records the outcome: any status change. */
  payment_status_change: { event: 'UPDATE', when: 'OLD.status IS DISTINCT FROM NEW.status' },
} as const;
export type TransactionFaultTarget = keyof typeof TRANSACTION_FAULT_TARGETS;

/** PostgreSQL's serialization failure and deadlock. */
export type TransactionFaultCode = '40001' | '40P01';

/** Fail the next `times` statements of `target` with `sqlstate`. */
export interface TransactionFault {
  readonly target: TransactionFaultTarget;
  readonly sqlstate: TransactionFaultCode;
  readonly times: number;
}

const TARGETS = Object.keys(TRANSACTION_FAULT_TARGETS) as TransactionFaultTarget[];

async function withSql<T>(databaseUrl: string, run: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    return await run(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Creates the triggers on `pay.payments` (idempotent), all disarmed. Run after pay's migrations. */
export async function installTransactionFaults(databaseUrl: string): Promise<void> {
  await withSql(databaseUrl, async (sql) => {
    await sql.begin(async (tx) => {
      await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
      await tx.unsafe(`
        CREATE TABLE IF NOT EXISTS ${SCHEMA}.armed (
          target text PRIMARY KEY,
          sqlstate text NOT NULL,
          times integer NOT NULL
        )`);
      // SECURITY DEFINER: pay runs as pay_service, which has no rights in this schema.
      await tx.unsafe(`
        CREATE OR REPLACE FUNCTION ${SCHEMA}.maybe_fail() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${SCHEMA}, pg_temp AS $$
        DECLARE
          fault ${SCHEMA}.armed;
        BEGIN
          SELECT * INTO fault FROM ${SCHEMA}.armed WHERE target = TG_ARGV[0];
          IF FOUND AND nextval(format('${SCHEMA}.%I', TG_ARGV[0] || '_calls')) <= fault.times THEN
            RAISE EXCEPTION 'pay_faults: injected % on %', fault.sqlstate, TG_ARGV[0]
              USING ERRCODE = fault.sqlstate;
          END IF;
          RETURN NEW;
        END $$`);
      for (const target of TARGETS) {
        const { event, when } = TRANSACTION_FAULT_TARGETS[target];
        await tx.unsafe(`CREATE SEQUENCE IF NOT EXISTS ${SCHEMA}.${target}_calls`);
        await tx.unsafe(`DROP TRIGGER IF EXISTS pay_faults_${target} ON pay.payments`);
        await tx.unsafe(`
          CREATE TRIGGER pay_faults_${target} BEFORE ${event} ON pay.payments
          FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION ${SCHEMA}.maybe_fail('${target}')`);
      }
    });
  });
}

/** Arms `fault` (replacing any fault on the same target) and restarts its count. */
export async function armTransactionFault(databaseUrl: string, fault: TransactionFault): Promise<void> {
  if (!TARGETS.includes(fault.target)) {
    throw new Error(`unknown transaction fault target ${JSON.stringify(fault.target)}`);
  }
  if (!Number.isInteger(fault.times) || fault.times < 0) {
    throw new Error(`times must be a non-negative integer, got ${fault.times}`);
  }
  await withSql(databaseUrl, async (sql) => {
    await sql.begin(async (tx) => {
      await tx`
        INSERT INTO ${tx(SCHEMA)}.armed (target, sqlstate, times)
        VALUES (${fault.target}, ${fault.sqlstate}, ${fault.times})
        ON CONFLICT (target) DO UPDATE SET sqlstate = EXCLUDED.sqlstate, times = EXCLUDED.times`;
      await tx.unsafe(`ALTER SEQUENCE ${SCHEMA}.${fault.target}_calls RESTART`);
    });
  });
}

/** Disarms every fault. */
export async function disarmTransactionFaults(databaseUrl: string): Promise<void> {
  await withSql(databaseUrl, async (sql) => {
    await sql`DELETE FROM ${sql(SCHEMA)}.armed`;
  });
}

/** How many statements each armed target has failed so far (the count of its armed calls, capped). */
export async function transactionFaultsRaised(
  databaseUrl: string,
): Promise<Partial<Record<TransactionFaultTarget, number>>> {
  return withSql(databaseUrl, async (sql) => {
    const armed = await sql<{ target: TransactionFaultTarget; times: number }[]>`
      SELECT target, times FROM ${sql(SCHEMA)}.armed`;
    const raised: Partial<Record<TransactionFaultTarget, number>> = {};
    for (const { target, times } of armed) {
      const [row] = await sql.unsafe<{ last_value: string; is_called: boolean }[]>(
        `SELECT last_value, is_called FROM ${SCHEMA}.${target}_calls`,
      );
      const calls = row === undefined || !row.is_called ? 0 : Number(row.last_value);
      raised[target] = Math.min(calls, times);
    }
    return raised;
  });
}
