import { randomBytes } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import Stripe from 'stripe';
import { startSandbox, type Sandbox, type SandboxOptions } from '../src/index.js';

/** A raw HTTP exchange, for the tests about headers and bytes. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON fields
  json: any;
}

export interface RawRequest {
  /** Form body for POST, query (without `?`) for GET/DELETE. */
  body?: string;
  /** API key, sent as Bearer; null for no Authorization header. */
  key?: string | null;
  headers?: Record<string, string>;
}

/** A fresh test key: each key is its own account, so tests in one file do not see each other's objects. */
export function newKey(): string {
  return `sk_test_${randomBytes(9).toString('hex')}`;
}

/** The sandbox, the real SDK pointed at it, and raw HTTP helpers. */
export interface Harness {
  sandbox: Sandbox;
  /** A default key for this harness. */
  key: string;
  /** The real SDK configured only with host, port and protocol (retries off unless asked). */
  stripe(key?: string, config?: Stripe.StripeConfig): Stripe;
  raw(method: string, path: string, request?: RawRequest): Promise<RawResponse>;
  /** A control-plane call with a JSON body. */
  control(method: string, path: string, body?: unknown): Promise<RawResponse>;
  close(): Promise<void>;
}

export function rawRequest(
  url: string,
  method: string,
  path: string,
  request: RawRequest = {},
): Promise<RawResponse> {
  const { port, hostname } = new URL(url);
  const body = request.body ?? '';
  const isPost = method === 'POST';
  const headers: Record<string, string> = { ...request.headers };
  if (request.key !== null && request.key !== undefined) {
    headers.Authorization = `Bearer ${request.key}`;
  }
  if (isPost) {
    headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
    headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname,
        port,
        method,
        path: isPost || body === '' ? path : `${path}?${body}`,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(isPost ? body : undefined);
  });
}

export async function harness(options: SandboxOptions = {}): Promise<Harness> {
  const sandbox = await startSandbox({ port: 0, clock: 'virtual', ...options });
  const key = newKey();
  return {
    sandbox,
    key,
    stripe: (k = key, config = {}) =>
      new Stripe(k, {
        host: '127.0.0.1',
        port: sandbox.port,
        protocol: 'http',
        maxNetworkRetries: 0,
        ...config,
      }),
    raw: (method, path, request = {}) => rawRequest(sandbox.url, method, path, { key, ...request }),
    control: (method, path, body) =>
      rawRequest(sandbox.url, method, `/_sandbox/${path}`, {
        key: null,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headers: { 'Content-Type': 'application/json' },
      }),
    close: () => sandbox.stop(),
  };
}

/** Creates a customer-less PaymentIntent with `pm` and confirms it, card-only (no return_url needed). */
export function confirmWith(
  stripe: Stripe,
  pm: string,
  params: Partial<Stripe.PaymentIntentCreateParams> = {},
  options: Stripe.RequestOptions = {},
): Promise<Stripe.Response<Stripe.PaymentIntent>> {
  return stripe.paymentIntents.create(
    {
      amount: 2000,
      currency: 'usd',
      payment_method: pm,
      confirm: true,
      allowed_payment_method_types: ['card'],
      ...params,
    },
    options,
  );
}

/** Awaits a promise expected to reject with a Stripe error, and returns that error. */
export async function stripeError(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected the request to fail');
}

/** The id of an expandable field, whether it came back as an id or as the object. */
export function idOf(value: string | { id: string } | null | undefined): string {
  return typeof value === 'string' ? value : (value?.id ?? '');
}
