import { randomUUID } from 'node:crypto';
import { isPayError, type AccountId, type PaymentResult, type PlanId } from '@pay/core';
import express, { type NextFunction, type Request, type Response } from 'express';
import { findOrder, insertOrder, settleOrder, type OrderStatus, type Sql } from './orders.js';
import type { Pay } from './pay.js';

/** What an order's payment led to, in the service's own terms. */
const ORDER_STATUS: Record<PaymentResult['kind'], OrderStatus> = {
  succeeded: 'paid',
  processing: 'pending',
  requires_action: 'awaiting_action',
  declined: 'declined',
  rejected: 'failed',
};

export interface AppDeps {
  readonly db: Sql;
  readonly pay: Pay;
  /** The service's own pay account, and the plan its orders are sold at. */
  readonly accountId: AccountId;
  readonly planId: PlanId;
}

/** The service's HTTP API: orders, each paid for through pay when it is placed. */
export function createApp({ db, pay, accountId, planId }: AppDeps): express.Express {
  const app = express();
  app.use(express.json());

  app.post('/orders', async (req: Request, res: Response) => {
    const body = req.body as { userId?: unknown; paymentMethodId?: unknown };
    if (typeof body.userId !== 'string' || typeof body.paymentMethodId !== 'string') {
      res.status(400).json({ error: 'userId and paymentMethodId (pm_…) are required' });
      return;
    }
    const order = await insertOrder(db, `ord_${randomUUID()}`, body.userId);
    // One order, one key: a retried request can never charge twice.
    const { result } = await pay.payments.create(
      { accountId, userId: body.userId, planId, paymentMethodId: body.paymentMethodId },
      {
        accountId,
        key: order.id,
        method: 'POST',
        path: '/orders',
        params: body,
        requestId: `req_${randomUUID()}`,
      },
    );
    const { payment } = result.view;
    const settled = await settleOrder(db, order.id, ORDER_STATUS[result.kind], payment.id);
    res.status(201).json({
      order: settled,
      payment: { id: payment.id, status: payment.status, amount: payment.amount, currency: payment.currency },
    });
  });

  app.get('/orders/:id', async (req: Request<{ id: string }>, res: Response) => {
    const order = await findOrder(db, req.params.id);
    if (order === null) {
      res.status(404).json({ error: 'no such order' });
      return;
    }
    const payment =
      order.payPaymentId === null ? null : await pay.payments.get(accountId, order.payPaymentId);
    res.json({ order, payment });
  });

  // pay's errors carry a stable code and say whether a retry may succeed.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (isPayError(error)) {
      res.status(error.retryable ? 503 : 400).json({ error: error.message, code: error.code });
      return;
    }
    res.status(500).json({ error: 'internal error' });
  });
  return app;
}
