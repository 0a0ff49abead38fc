import http from 'node:http';
import path from 'node:path';
import { silentLogger } from '@pay/core';
import Stripe from 'stripe';
import {
  createPay,
  loadConfig,
  SANDBOX_SECRET_KEY,
  STRIPE_WEBHOOK_PATH,
  type StripeConnection,
} from '../src/index.js';
import { makeTempDir, openEmbedded } from './helpers.js';

function sdk(connection: StripeConnection): Stripe {
  return new Stripe(connection.secretKey, {
    host: connection.host,
    port: connection.port,
    protocol: connection.protocol,
    maxNetworkRetries: 0,
  });
}

/** A stand-in for pay's webhook route on `port`, collecting what arrives. */
async function receiver(
  port: number,
): Promise<{ bodies: { body: string; signature: string }[]; close(): Promise<void> }> {
  const bodies: { body: string; signature: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === STRIPE_WEBHOOK_PATH) {
        bodies.push({ body, signature: String(req.headers['stripe-signature']) });
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { bodies, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

describe("pay's Stripe on the embedded default", () => {
  const temp = makeTempDir();
  afterAll(() => temp.remove());

  it('runs the sandbox in the API process, reachable by the real SDK, and stops it on close', async () => {
    const pay = await openEmbedded(path.join(temp.dir, 'api'));
    let url: string | undefined;
    try {
      expect(pay.modeLabel).toBe('embedded (SANDBOX)');
      const stripe = await pay.stripe();
      expect(stripe).toMatchObject({
        kind: 'sandbox',
        secretKey: SANDBOX_SECRET_KEY,
        host: '127.0.0.1',
        protocol: 'http',
      });
      expect(stripe.webhookSecrets).toEqual([expect.stringMatching(/^whsec_/)]);
      url = stripe.sandbox?.url;
      const intent = await sdk(stripe).paymentIntents.create({
        amount: 1500,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        allowed_payment_method_types: ['card'],
        confirm: true,
      });
      expect(intent.status).toBe('succeeded');
    } finally {
      await pay.close();
    }
    await expect(fetch(`${String(url)}/v1/customers`)).rejects.toThrow();
  });

  it('gives the CLI the running service’s sandbox, with the service’s objects', async () => {
    const dir = path.join(temp.dir, 'shared');
    const api = await openEmbedded(dir);
    try {
      const apiStripe = await api.stripe();
      const customer = await sdk(apiStripe).customers.create({ metadata: { pay_account: 'acc_test' } });
      const cli = await openEmbedded(dir, 'cli');
      try {
        const cliStripe = await cli.stripe();
        expect(cliStripe).toMatchObject({ kind: 'sandbox', port: apiStripe.port, sandbox: null });
        expect((await sdk(cliStripe).customers.retrieve(customer.id)).id).toBe(customer.id);
      } finally {
        await cli.close();
      }
    } finally {
      await api.close();
    }
  });

  it("signs the sandbox's deliveries to pay's webhook route with pay's own secret", async () => {
    const port = await freePort();
    const route = await receiver(port);
    const secret = 'whsec_embedded_test_secret';
    const pay = await createPay(
      loadConfig({
        PAY_DATA_DIR: path.join(temp.dir, 'webhooks'),
        PORT: String(port),
        STRIPE_WEBHOOK_SECRET: secret,
      }),
      { logger: silentLogger },
    );
    try {
      const stripe = await pay.stripe();
      expect(stripe.webhookSecrets).toEqual([secret]);
      await sdk(stripe).customers.create();
      await stripe.sandbox?.flush();
      for (let i = 0; i < 100 && route.bodies.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const [delivery] = route.bodies;
      const event = Stripe.webhooks.constructEvent(delivery?.body ?? '', delivery?.signature ?? '', secret);
      expect(event.type).toBe('customer.created');
    } finally {
      await pay.close();
      await route.close();
    }
  });

  it('talks to the Stripe that STRIPE_SECRET_KEY and STRIPE_API_BASE name, starting no sandbox', async () => {
    const pay = await createPay(
      loadConfig({
        PAY_DATA_DIR: path.join(temp.dir, 'real'),
        STRIPE_SECRET_KEY: 'sk_test_elsewhere',
        STRIPE_API_BASE: 'http://127.0.0.1:12111',
        STRIPE_WEBHOOK_SECRETS: 'whsec_a,whsec_b',
      }),
      { logger: silentLogger },
    );
    try {
      expect(pay.modeLabel).toBe('embedded');
      expect(await pay.stripe()).toMatchObject({
        kind: 'stripe',
        secretKey: 'sk_test_elsewhere',
        host: '127.0.0.1',
        port: 12111,
        protocol: 'http',
        webhookSecrets: ['whsec_a', 'whsec_b'],
        sandbox: null,
      });
    } finally {
      await pay.close();
    }
  });
});
