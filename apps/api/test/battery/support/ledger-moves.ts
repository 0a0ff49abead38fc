import { int, text, textOrNull, withSql } from './pay-sql.js';

/*
 * Every row of pay's three ledgers (payments, subscriptions, refunds) with what caused it, read with
 * plain SQL, for the crash batteries' "applied exactly once" checks: a Stripe event applied twice, or a
 * renewal settled twice, shows as a second row for one change.
 */

export type LedgerTable = 'payment_events' | 'subscription_events' | 'refund_events';

/** One ledger row: the object's move and its cause, flattened to one printable string. */
export interface LedgerMove {
  readonly table: LedgerTable;
  readonly objectId: string;
  readonly seq: number;
  readonly fromStatus: string | null;
  readonly toStatus: string;
  readonly amount: number;
  /** `event:evt_…`, `job:recovery`, `request:req_…`, `refund:rfnd_…` or `payment:pay_…`. */
  readonly cause: string;
  readonly causeStripeEventId: string | null;
}

const LEDGERS: readonly { table: LedgerTable; objectColumn: string }[] = [
  { table: 'payment_events', objectColumn: 'payment_id' },
  { table: 'subscription_events', objectColumn: 'subscription_id' },
  { table: 'refund_events', objectColumn: 'refund_id' },
];

/** Every ledger row, per table and object in write order. */
export function readLedgerMoves(databaseUrl: string): Promise<LedgerMove[]> {
  return withSql(databaseUrl, async (sql) => {
    const moves: LedgerMove[] = [];
    for (const { table, objectColumn } of LEDGERS) {
      const rows = await sql.unsafe(
        `SELECT ${objectColumn} AS object_id, seq, from_status, to_status, amount, cause_request_id,
                cause_stripe_event_id, cause_refund_id, cause_payment_id, cause_job
         FROM pay.${table} ORDER BY ${objectColumn}, seq`,
      );
      for (const r of rows) {
        const event = textOrNull(r.cause_stripe_event_id, 'cause_stripe_event_id');
        const causes = [
          ['event', event],
          ['job', textOrNull(r.cause_job, 'cause_job')],
          ['request', textOrNull(r.cause_request_id, 'cause_request_id')],
          ['refund', textOrNull(r.cause_refund_id, 'cause_refund_id')],
          ['payment', textOrNull(r.cause_payment_id, 'cause_payment_id')],
        ] as const;
        moves.push({
          table,
          objectId: text(r.object_id, 'object_id'),
          // bigint columns arrive as strings from postgres.js; these fit a double exactly.
          seq: Number(r.seq),
          fromStatus: textOrNull(r.from_status, 'from_status'),
          toStatus: text(r.to_status, 'to_status'),
          amount: int(r.amount, 'amount'),
          cause: causes
            .filter(([, value]) => value !== null)
            .map(([kind, value]) => `${kind}:${value ?? ''}`)
            .join(' '),
          causeStripeEventId: event,
        });
      }
    }
    return moves;
  });
}

/** `from→to` of a move, for printing and comparing shapes. */
export function moveShape(move: LedgerMove): string {
  return `${move.fromStatus ?? 'null'}→${move.toStatus}`;
}

/**
 * The places where one cause changed one object more than once: a Stripe event (or a job's run on one
 * object) applied twice leaves two rows for one cause. Empty when every cause moved each object once.
 */
export function repeatedEffects(moves: readonly LedgerMove[]): string[] {
  const seen = new Map<string, number>();
  for (const move of moves) {
    if (move.causeStripeEventId === null) {
      continue;
    }
    const key = `${move.table} ${move.objectId} by ${move.causeStripeEventId}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen.entries()].filter(([, n]) => n > 1).map(([key, n]) => `${key}: ${n} rows`);
}
