import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import net from 'node:net';
import type { Account, IssuedApiKey, Payment, PaymentId, Plan, Subscription } from '@pay/core';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import { SANDBOX_SECRET_KEY, type Pay } from '@pay/runtime';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { createApp } from '../src/index.js';
import { openPostgresPay } from './helpers.js';

/*
 * 3-D Secure end to end, as a card holder lives it: pay answers the payment with a redirect, Debian's
 * headless Chromium completes (or fails) the sandbox's challenge page, lands back on pay's return route,
 * and pay sends it on to the shop's return_url. The shop's page is never loaded: the browser's request
 * for it is caught and aborted, and its URL is what the shop would have read.
 * `.ci/run` installs /usr/bin/chromium; without it this suite fails under CI=true and skips elsewhere.
 */

const CHROMIUM = process.env.PAY_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const haveChromium = fs.existsSync(CHROMIUM);
const SHOP_ORIGIN = 'https://shop.example';
const RETURN_URL = `${SHOP_ORIGIN}/done?order=7`;

if (!haveChromium && process.env.CI !== 'true') {
  process.stderr.write(
    `[three-d-secure.browser.test] skipped: ${CHROMIUM} is missing (apt-get install chromium); under CI=true this fails.\n`,
  );
}

/** A port nobody listens on right now: pay must know its own address before it starts (API_BASE_URL). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error(`unexpected address ${String(address)}`)),
      );
    });
  });
}

function listen(pay: Pay, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createApp({ pay }).listen(port, '127.0.0.1', (error?: Error) =>
      error === undefined ? resolve(server) : reject(error),
    );
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) =>
    server.close((error) => (error === undefined ? resolve() : reject(error))),
  );
}

/**
 * Makes the shop unreachable for `page`: every request to SHOP_ORIGIN is paused at the network layer
 * and failed before it leaves the browser. Playwright's own `page.route` sees only the first URL of a
 * redirect chain, and the shop is the last hop of one, so this talks to Chromium's Fetch domain itself.
 */
async function blockShop(page: Page): Promise<string[]> {
  const blocked: string[] = [];
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Fetch.requestPaused', (event) => {
    blocked.push(event.request.url);
    void cdp.send('Fetch.failRequest', { requestId: event.requestId, errorReason: 'BlockedByClient' });
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${SHOP_ORIGIN}/*`, requestStage: 'Request' }] });
  return blocked;
}

/** The URLs of a request's redirect chain, first to last. */
function redirectChain(request: Request): string[] {
  const chain: string[] = [];
  for (let hop: Request | null = request; hop !== null; hop = hop.redirectedFrom()) {
    chain.unshift(hop.url());
  }
  return chain;
}

interface PaymentBody {
  readonly id: PaymentId;
  readonly status: string;
  readonly next_action?: { readonly redirect_url: string } | null;
  readonly failure?: { readonly code: string; readonly decline_code?: string | null } | null;
}

(haveChromium || process.env.CI === 'true' ? describe : describe.skip)(
  '3-D Secure through pay in headless Chromium (PostgreSQL, in-process sandbox)',
  () => {
    let database: TestDatabase;
    let pay: Pay;
    let server: Server;
    let base: string;
    let browser: Browser;
    let context: BrowserContext;
    let tenant: { account: Account; key: IssuedApiKey; plan: Plan };

    const operator = { type: 'cli_operator', id: 'three-ds-test' } as const;

    beforeAll(async () => {
      if (!haveChromium) {
        throw new Error(
          `${CHROMIUM} is missing: .ci/run installs Debian's chromium package before the tests`,
        );
      }
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      database = await createTestDatabase('api_three_ds');
      // No STRIPE_SECRET_KEY: createPay starts the sandbox in-process, as the embedded default does.
      pay = await openPostgresPay(database.url, {
        PORT: String(port),
        API_BASE_URL: base,
        PAY_RETURN_URL_ORIGINS: SHOP_ORIGIN,
      });
      server = await listen(pay, port);
      const account = await pay.services.accounts.createAccount('Shop', operator);
      const key = await pay.services.accounts.createApiKey(
        { accountId: account.id, name: 'shop', role: 'service' },
        operator,
      );
      const plan = await pay.services.plans.createPlan(
        { accountId: account.id, name: 'Pro', amount: 1500, currency: 'usd', interval: 'month' },
        operator,
      );
      tenant = { account, key, plan };
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });

    afterAll(async () => {
      await browser?.close();
      if (server !== undefined) {
        await closeServer(server);
      }
      await pay?.close();
      await database?.drop();
    });

    beforeEach(async () => {
      context = await browser.newContext();
    });
    afterEach(async () => context.close());

    const authorized = (): Record<string, string> => ({ Authorization: `Bearer ${tenant.key.secret}` });

    /** `POST /api/v1/payments` for the tenant's plan with `paymentMethodId`, as a shop's backend does. */
    async function pay3ds(userId: string, paymentMethodId: string): Promise<PaymentBody> {
      const res = await fetch(`${base}/api/v1/payments`, {
        method: 'POST',
        headers: {
          ...authorized(),
          'Content-Type': 'application/json',
          'Idempotency-Key': `three-ds-${randomUUID()}`,
        },
        body: JSON.stringify({
          user_id: userId,
          plan_id: tenant.plan.id,
          payment_method_id: paymentMethodId,
          return_url: RETURN_URL,
        }),
      });
      const body = (await res.json()) as PaymentBody;
      expect({ status: res.status, paymentStatus: body.status }).toEqual({
        status: 201,
        paymentStatus: 'requires_action',
      });
      expect(body.next_action?.redirect_url).toEqual(expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//));
      // Until the card holder answers, nothing is charged and the row waits in requires_action.
      expect((await row(body.id)).status).toBe('requires_action');
      return body;
    }

    async function getPayment(id: PaymentId): Promise<{ status: number; body: PaymentBody }> {
      const res = await fetch(`${base}/api/v1/payments/${id}`, { headers: authorized() });
      return { status: res.status, body: (await res.json()) as PaymentBody };
    }

    async function row(id: PaymentId): Promise<Payment> {
      const payment = await pay.store.repos.payments.findById(tenant.account.id, id);
      if (payment === null) {
        throw new Error(`no payment row ${id}`);
      }
      return payment;
    }

    async function subscriptionOf(payment: Payment): Promise<Subscription | null> {
      return payment.subscriptionId === null
        ? null
        : pay.store.repos.subscriptions.findById(tenant.account.id, payment.subscriptionId);
    }

    async function statusesOf(id: PaymentId): Promise<string[]> {
      return (await pay.store.repos.payments.listEvents(id)).map((event) => event.toStatus);
    }

    /** What Stripe (the sandbox) holds for the payment's PaymentIntent, read with pay's own key. */
    async function intentOf(payment: Payment): Promise<{ status: string; last_payment_error: unknown }> {
      const stripe = await pay.stripe();
      const res = await fetch(
        `${stripe.protocol}://${stripe.host}:${stripe.port}/v1/payment_intents/${payment.stripePaymentIntentId}`,
        { headers: { Authorization: `Bearer ${SANDBOX_SECRET_KEY}` } },
      );
      return (await res.json()) as { status: string; last_payment_error: unknown };
    }

    /**
     * Opens the challenge at `redirectUrl`, presses `button`, and returns the browser's request for the
     * shop's page (blocked: the shop is never loaded), after checking it got there through pay.
     */
    async function answerChallenge(
      payment: PaymentBody,
      button: '#complete-authentication' | '#fail-authentication',
    ): Promise<URL> {
      const page = await context.newPage();
      const blocked = await blockShop(page);
      await page.goto(payment.next_action?.redirect_url ?? 'about:blank');
      expect(await page.textContent('#three-ds-payment-intent')).toBe(
        (await row(payment.id)).stripePaymentIntentId,
      );
      const [shopRequest, failedRequest] = await Promise.all([
        page.waitForRequest((request) => request.url().startsWith(SHOP_ORIGIN)),
        page.waitForEvent('requestfailed', (request) => request.url().startsWith(SHOP_ORIGIN)),
        page.click(button),
      ]);
      // The shop's page was asked for exactly once and never answered.
      expect(failedRequest.url()).toBe(shopRequest.url());
      expect(blocked).toEqual([shopRequest.url()]);

      // The challenge's form posted to the sandbox, the sandbox sent the browser to pay, pay to the shop.
      const chain = redirectChain(shopRequest);
      expect(chain).toHaveLength(3);
      expect(new URL(chain[0] ?? '').pathname).toMatch(/^\/_sandbox\/3ds\/pi_/);
      expect(chain[1]).toEqual(
        expect.stringMatching(new RegExp(`^${base}/api/v1/payments/${payment.id}/return(\\?|$)`)),
      );
      const payHop = shopRequest.redirectedFrom();
      expect((await payHop?.response())?.status()).toBe(303);
      return new URL(shopRequest.url());
    }

    it('completing the challenge lands on pay, which sends the card holder to return_url; the payment succeeded and the subscription is active', async () => {
      const created = await pay3ds('user-complete', 'pm_card_threeDSecure2Required');
      const landed = await answerChallenge(created, '#complete-authentication');

      expect(landed.origin + landed.pathname).toBe(`${SHOP_ORIGIN}/done`);
      expect(Object.fromEntries(landed.searchParams)).toEqual({
        order: '7',
        payment_id: created.id,
        status: 'succeeded',
      });

      const got = await getPayment(created.id);
      expect({
        status: got.status,
        paymentStatus: got.body.status,
        next_action: got.body.next_action ?? null,
      }).toEqual({
        status: 200,
        paymentStatus: 'succeeded',
        next_action: null,
      });
      const payment = await row(created.id);
      expect(payment).toMatchObject({ status: 'succeeded', failureCode: null, declineCode: null });
      const statuses = await statusesOf(created.id);
      expect(statuses.slice(0, 2)).toEqual(['pending', 'requires_action']);
      expect(statuses.at(-1)).toBe('succeeded');
      expect(statuses).not.toContain('failed');
      expect((await subscriptionOf(payment))?.status).toBe('active');
      expect((await intentOf(payment)).status).toBe('succeeded');
    });

    it('failing the challenge lands on return_url with status=failed; the payment failed and its subscription expired', async () => {
      const created = await pay3ds('user-fail', 'pm_card_threeDSecure2Required');
      const landed = await answerChallenge(created, '#fail-authentication');

      expect(landed.origin + landed.pathname).toBe(`${SHOP_ORIGIN}/done`);
      expect(Object.fromEntries(landed.searchParams)).toEqual({
        order: '7',
        payment_id: created.id,
        status: 'failed',
      });

      const got = await getPayment(created.id);
      expect({ status: got.status, paymentStatus: got.body.status }).toEqual({
        status: 200,
        paymentStatus: 'failed',
      });
      expect(got.body.failure?.code).toBe('payment_intent_authentication_failure');
      const payment = await row(created.id);
      expect(payment).toMatchObject({
        status: 'failed',
        failureCode: 'payment_intent_authentication_failure',
      });
      const statuses = await statusesOf(created.id);
      expect(statuses.slice(0, 2)).toEqual(['pending', 'requires_action']);
      expect(statuses.at(-1)).toBe('failed');
      expect(statuses).not.toContain('succeeded');
      // The first payment never completed: the subscription it would have started expires.
      expect((await subscriptionOf(payment))?.status).toBe('expired');
      expect((await intentOf(payment)).status).toBe('requires_payment_method');
    });

    it('a card the bank declines after a completed challenge ends failed, with its decline; the subscription expired', async () => {
      const created = await pay3ds('user-declined', 'pm_card_threeDSecureRequiredChargeDeclined');
      const landed = await answerChallenge(created, '#complete-authentication');

      expect(Object.fromEntries(landed.searchParams)).toEqual({
        order: '7',
        payment_id: created.id,
        status: 'failed',
      });

      const got = await getPayment(created.id);
      expect({ status: got.status, paymentStatus: got.body.status }).toEqual({
        status: 200,
        paymentStatus: 'failed',
      });
      expect(got.body.failure).toMatchObject({ code: 'card_declined', decline_code: 'generic_decline' });
      const payment = await row(created.id);
      expect(payment).toMatchObject({
        status: 'failed',
        failureCode: 'card_declined',
        declineCode: 'generic_decline',
      });
      expect((await statusesOf(created.id)).at(-1)).toBe('failed');
      // The first payment never completed: the subscription it would have started expires.
      expect((await subscriptionOf(payment))?.status).toBe('expired');
      expect((await intentOf(payment)).status).toBe('requires_payment_method');
    });
  },
);
