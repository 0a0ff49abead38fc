import type { PGlite } from '@electric-sql/pglite';

/**
 * What the service needs of its database connection. Structural on purpose: the connection is the
 * PGlite that @pay/db opened (a CommonJS package, so PGlite's CommonJS build), whose class type is not
 * the one this ESM service would import, though its methods are.
 */
export type Sql = Pick<PGlite, 'query' | 'exec'>;

/*
 * The service's own data: an `orders` table in its own schema (`public`), in the same database as
 * pay, which keeps to its schema `pay`. Neither knows the other's tables; an order remembers the id of
 * the pay payment that paid for it.
 */

export type OrderStatus = 'pending' | 'paid' | 'awaiting_action' | 'declined' | 'failed';

export interface Order {
  readonly id: string;
  readonly userId: string;
  readonly status: OrderStatus;
  readonly payPaymentId: string | null;
}

interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  pay_payment_id: string | null;
}

const toOrder = (row: OrderRow): Order => ({
  id: row.id,
  userId: row.user_id,
  status: row.status,
  payPaymentId: row.pay_payment_id,
});

export async function createOrdersTable(db: Sql): Promise<void> {
  await db.exec(`
    CREATE TABLE IF NOT EXISTS public.orders (
      id text PRIMARY KEY,
      user_id text NOT NULL,
      status text NOT NULL,
      pay_payment_id text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
}

export async function insertOrder(db: Sql, id: string, userId: string): Promise<Order> {
  const { rows } = await db.query<OrderRow>(
    `INSERT INTO public.orders (id, user_id, status) VALUES ($1, $2, 'pending') RETURNING *`,
    [id, userId],
  );
  return toOrder(rows[0] as OrderRow);
}

export async function settleOrder(
  db: Sql,
  id: string,
  status: OrderStatus,
  payPaymentId: string,
): Promise<Order> {
  const { rows } = await db.query<OrderRow>(
    `UPDATE public.orders SET status = $2, pay_payment_id = $3 WHERE id = $1 RETURNING *`,
    [id, status, payPaymentId],
  );
  return toOrder(rows[0] as OrderRow);
}

export async function findOrder(db: Sql, id: string): Promise<Order | null> {
  const { rows } = await db.query<OrderRow>(`SELECT * FROM public.orders WHERE id = $1`, [id]);
  return rows[0] === undefined ? null : toOrder(rows[0]);
}
