import Stripe from 'stripe';
import { startSandbox, type Sandbox, type SandboxOptions } from '../src/index.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from './webhooks-receiver.js';

/** A whole sandbox on a virtual clock, the real SDK pointed at it, and a webhook receiver. */
export interface SandboxHarness {
  sandbox: Sandbox;
  stripe: Stripe;
  receiver: WebhookReceiver;
  /** Calls the control plane over HTTP, as a test in another process would; throws on a non-2xx. */
  control<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** The sandbox clock's time in ms, read through `GET /_sandbox/clock`. */
  nowMs(): Promise<number>;
  /** `constructEvent` on a received request, at the sandbox clock's time (receivers pass `receivedAt`). */
  verify(received: ReceivedWebhook | undefined, secret: string): Promise<Stripe.Event>;
  close(): Promise<void>;
}

/**
 * Starts a receiver, then a sandbox (virtual clock, `fast` retries unless overridden) and an SDK client
 * for it. Options may depend on the receiver's URL (a static endpoint pointing at it).
 */
export async function sandboxHarness(
  options: SandboxOptions | ((receiverUrl: string) => SandboxOptions) = {},
): Promise<SandboxHarness> {
  const receiver = await startWebhookReceiver();
  const resolved = typeof options === 'function' ? options(receiver.url) : options;
  const sandbox = await startSandbox({ port: 0, clock: 'virtual', retrySchedule: 'fast', ...resolved });
  const stripe = new Stripe('sk_test_webhooks_conformance', {
    host: '127.0.0.1',
    port: sandbox.port,
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${sandbox.url}/_sandbox/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) {
      throw new Error(`${method} /_sandbox/${path} answered ${res.status}: ${text}`);
    }
    return JSON.parse(text) as T;
  };
  const nowMs = async (): Promise<number> => (await control<{ now_ms: number }>('GET', 'clock')).now_ms;
  return {
    sandbox,
    stripe,
    receiver,
    control,
    nowMs,
    verify: async (received, secret) =>
      stripe.webhooks.constructEvent(
        received?.body ?? '',
        received?.signature ?? '',
        secret,
        300,
        undefined,
        await nowMs(),
      ),
    close: async () => {
      await sandbox.stop();
      await receiver.close();
    },
  };
}

/** Creates and confirms a PaymentIntent with `pm_card_visa`, as pay's checkout does. */
export function confirmVisa(stripe: Stripe): Promise<Stripe.Response<Stripe.PaymentIntent>> {
  return stripe.paymentIntents.create({
    amount: 2000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
  });
}

/** The event a receiver got, parsed (after verification elsewhere). */
export function parsed(received: ReceivedWebhook | undefined): Stripe.Event {
  return JSON.parse(received?.body ?? '{}') as Stripe.Event;
}

/** The `t=` of a Stripe-Signature header. */
export function signedAt(header: string | undefined): number {
  return Number(/^t=(\d+),/.exec(header ?? '')?.[1]);
}
