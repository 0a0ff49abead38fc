import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Actor } from '@pay/core';
import { startSandbox } from '@pay/stripe-sandbox';
import { createApp } from './app.js';
import { createOrdersTable } from './orders.js';
import { openPay, type Pay } from './pay.js';

/*
 * Boots the service with pay inside, places one order over HTTP and prints what happened. Stripe is
 * the in-process @pay/stripe-sandbox (it takes any `sk_test_…` key), the database PGlite in memory.
 * Exits 1 unless the order was paid.
 */

const SECRET_KEY = 'sk_test_embedded_service';
const SETUP: Actor = { type: 'system', id: 'embedded-service-setup' };

const sandbox = await startSandbox({ apiKeys: [SECRET_KEY] });
const stripeUrl = new URL(sandbox.url);
// The service listens first: pay needs its public address for 3-D Secure returns.
const server = createServer();
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

let pay: Pay | undefined;
try {
  pay = await openPay(
    { secretKey: SECRET_KEY, host: stripeUrl.hostname, port: Number(stripeUrl.port), protocol: 'http' },
    publicUrl,
  );
  const db = pay.sql;
  await createOrdersTable(db);
  const account = await pay.accounts.createAccount('Bookshop', SETUP);
  const plan = await pay.plans.createPlan(
    { accountId: account.id, name: 'Book club', amount: 1500, currency: 'usd', interval: 'month' },
    SETUP,
  );
  server.on('request', createApp({ db, pay, accountId: account.id, planId: plan.id }));

  const response = await fetch(`${publicUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: 'reader-42', paymentMethodId: 'pm_card_visa' }),
  });
  const placed = (await response.json()) as { order: { status: string } };
  // The service's table and pay's, side by side in one database.
  const { rows: schemas } = await db.query<{ schema: string; tables: number }>(
    `SELECT table_schema AS schema, count(*)::int AS tables FROM information_schema.tables
     WHERE table_schema IN ('public', 'pay') GROUP BY table_schema ORDER BY table_schema`,
  );
  console.log(`POST /orders -> ${response.status}`);
  console.log(`RESULT ${JSON.stringify({ ...placed, schemas })}`);
  process.exitCode = placed.order.status === 'paid' ? 0 : 1;
} finally {
  server.close();
  await pay?.close();
  await sandbox.stop();
}
