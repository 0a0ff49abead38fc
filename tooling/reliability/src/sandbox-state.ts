import { accountIdForKey } from '@pay/stripe-sandbox';
import Stripe from 'stripe';
import type { SandboxTarget } from './context.js';
import { readSandboxLedger } from './sandbox-control.js';

/** Everything the checkers read from the sandbox: the objects of the account pay uses, as they are now. */
export interface SandboxState {
  readonly accountId: string;
  readonly paymentIntents: readonly Stripe.PaymentIntent[];
  readonly charges: readonly Stripe.Charge[];
  readonly refunds: readonly Stripe.Refund[];
}

/** The real SDK pointed at the sandbox, as pay's gateway points it (`STRIPE_API_BASE`). */
export function sandboxClient(target: SandboxTarget): Stripe {
  const url = new URL(target.url);
  return new Stripe(target.secretKey, {
    host: url.hostname,
    port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
    telemetry: false,
  });
}

async function listAll<T extends { id: string }>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of pages) {
    out.push(item);
  }
  return out;
}

/**
 * The account's intents, charges and refunds. The sandbox's ledger says what was ever created; the SDK's
 * lists say what each object is now. An object the ledger records but a list does not return is fetched
 * by id, so a list that drops objects cannot hide a second charge.
 */
export async function readSandboxState(target: SandboxTarget): Promise<SandboxState> {
  const stripe = sandboxClient(target);
  const accountId = target.accountId ?? accountIdForKey(target.secretKey);
  const [ledger, intents, charges, refunds] = await Promise.all([
    readSandboxLedger(target.url, { account: accountId }),
    listAll(stripe.paymentIntents.list({ limit: 100 })),
    listAll(stripe.charges.list({ limit: 100 })),
    listAll(stripe.refunds.list({ limit: 100 })),
  ]);
  const complete = async <T extends { id: string }>(
    kind: 'payment_intent' | 'charge' | 'refund',
    listed: T[],
    retrieve: (id: string) => Promise<T>,
  ): Promise<T[]> => {
    const known = new Set(listed.map((o) => o.id));
    const missing = ledger.filter((o) => o.kind === kind && !known.has(o.id)).map((o) => o.id);
    return [...listed, ...(await Promise.all(missing.map(retrieve)))];
  };
  return {
    accountId,
    paymentIntents: await complete('payment_intent', intents, (id) => stripe.paymentIntents.retrieve(id)),
    charges: await complete('charge', charges, (id) => stripe.charges.retrieve(id)),
    refunds: await complete('refund', refunds, (id) => stripe.refunds.retrieve(id)),
  };
}
