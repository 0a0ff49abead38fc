import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import Stripe from 'stripe';
import { startSandbox, type Sandbox } from '../src/index.js';

/*
 * The 3-D Secure page behind `next_action.redirect_to_url.url`, driven in Debian's headless Chromium as
 * a customer would: open the challenge, press a button, land on the merchant's return_url. `.ci/run`
 * installs /usr/bin/chromium; without it this suite fails under CI=true and skips, saying why, elsewhere.
 */

const CHROMIUM = '/usr/bin/chromium';
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

if (!haveChromium && process.env.CI !== 'true') {
  process.stderr.write(
    `[three-ds.browser.test] skipped: ${CHROMIUM} is missing (apt-get install chromium); under CI=true this fails.\n`,
  );
}

/** The merchant's page the customer comes back to; it records what the browser asked for. */
async function startReturnServer(): Promise<{ url: string; visits: URL[]; close: () => Promise<void> }> {
  const visits: URL[] = [];
  const server = http.createServer((req, res) => {
    visits.push(new URL(req.url ?? '/', 'http://return.local'));
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Order</title><h1 id="returned">Back at the shop</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    visits,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

(haveChromium || process.env.CI === 'true' ? describe : describe.skip)(
  '3-D Secure page in headless Chromium',
  () => {
    let sandbox: Sandbox;
    let stripe: Stripe;
    let browser: Browser;
    let context: BrowserContext;
    let shop: Awaited<ReturnType<typeof startReturnServer>>;

    beforeAll(async () => {
      if (!haveChromium) {
        throw new Error(
          `${CHROMIUM} is missing: .ci/run installs Debian's chromium package before the tests`,
        );
      }
      sandbox = await startSandbox({ port: 0, clock: 'virtual' });
      stripe = new Stripe('sk_test_three_ds_browser', {
        host: '127.0.0.1',
        port: sandbox.port,
        protocol: 'http',
      });
      shop = await startReturnServer();
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });
    afterAll(async () => {
      await browser?.close();
      await shop?.close();
      await sandbox?.stop();
    });
    beforeEach(async () => {
      context = await browser.newContext();
    });
    afterEach(async () => context.close());

    /** A PaymentIntent confirmed with 4000000000003220, which always asks for 3-D Secure. */
    async function intentAwaitingChallenge(): Promise<Stripe.PaymentIntent> {
      const pm = await stripe.paymentMethods.create({
        type: 'card',
        card: { number: '4000000000003220', exp_month: 12, exp_year: 2034, cvc: '123' },
      });
      const pi = await stripe.paymentIntents.create({
        amount: 4200,
        currency: 'eur',
        payment_method: pm.id,
        confirm: true,
        return_url: `${shop.url}/checkout/return?order=ord_42`,
      });
      expect(pi.status).toBe('requires_action');
      expect(pi.next_action?.type).toBe('redirect_to_url');
      return pi;
    }

    /** Opens the challenge, presses `button`, and waits to land back at the shop. */
    async function answerChallenge(
      pi: Stripe.PaymentIntent,
      button: '#complete-authentication' | '#fail-authentication',
    ): Promise<URL> {
      const page = await context.newPage();
      await page.goto(pi.next_action?.redirect_to_url?.url ?? 'about:blank');
      expect(await page.textContent('#three-ds-payment-intent')).toBe(pi.id);
      expect(await page.textContent('#three-ds-card')).toContain('3220');
      await Promise.all([page.waitForURL((url) => url.href.startsWith(shop.url)), page.click(button)]);
      expect(await page.textContent('#returned')).toBe('Back at the shop');
      return new URL(page.url());
    }

    it('completing the challenge redirects to return_url with the intent, which has succeeded', async () => {
      const pi = await intentAwaitingChallenge();
      const landed = await answerChallenge(pi, '#complete-authentication');

      expect(landed.pathname).toBe('/checkout/return');
      expect(Object.fromEntries(landed.searchParams)).toEqual({
        order: 'ord_42',
        payment_intent: pi.id,
        payment_intent_client_secret: pi.client_secret,
      });
      // The shop saw the redirect itself (the browser may also ask it for a favicon).
      const returns = shop.visits.filter((v) => v.pathname === '/checkout/return');
      expect(returns.at(-1)?.searchParams.get('payment_intent')).toBe(pi.id);
      const after = await stripe.paymentIntents.retrieve(pi.id);
      expect(after.status).toBe('succeeded');
      expect(after.latest_charge).toMatch(/^ch_/);
      expect(after.last_payment_error).toBeNull();
    });

    it('failing the challenge redirects to return_url; the intent needs a new payment method', async () => {
      const pi = await intentAwaitingChallenge();
      const landed = await answerChallenge(pi, '#fail-authentication');

      expect(landed.searchParams.get('payment_intent')).toBe(pi.id);
      const after = await stripe.paymentIntents.retrieve(pi.id);
      expect(after.status).toBe('requires_payment_method');
      expect(after.last_payment_error?.code).toBe('payment_intent_authentication_failure');
      expect(after.payment_method).toBeNull();
    });

    it('shows no buttons once the challenge is answered: the page says the intent is not awaiting authentication', async () => {
      const pi = await intentAwaitingChallenge();
      await answerChallenge(pi, '#complete-authentication');
      const page = await context.newPage();
      await page.goto(pi.next_action?.redirect_to_url?.url ?? 'about:blank');
      expect(await page.locator('#complete-authentication').count()).toBe(0);
      expect(await page.getAttribute('#three-ds-result', 'data-status')).toBe('succeeded');
    });
  },
);
