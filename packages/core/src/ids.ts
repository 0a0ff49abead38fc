import { ValidationError } from './errors.js';

/**
 * The prefix of every id pay makes, one per kind of object. None can be confused with Stripe's own
 * (`cus_`, `pm_`, `pi_`, `sub_`, `re_`, `evt_`, `acct_`, `plan_`, `ch_`), so a support engineer can tell
 * at a glance whose id they hold.
 */
export const ID_PREFIXES = {
  account: 'acc',
  apiKey: 'key',
  customer: 'cust',
  paymentMethod: 'pmeth',
  plan: 'pln',
  payment: 'pay',
  paymentEvent: 'payevt',
  subscription: 'subs',
  subscriptionEvent: 'subsevt',
  refund: 'rfnd',
  refundEvent: 'rfndevt',
  webhookEvent: 'whevt',
  idempotencyKey: 'idem',
  auditEntry: 'audit',
  dispute: 'dspt',
} as const;

/** The kinds of object pay gives ids to, each with its prefix in {@link ID_PREFIXES}. */
export type IdKind = keyof typeof ID_PREFIXES;

declare const idBrand: unique symbol;
/** A prefixed id of one kind of object; the brand keeps a refund id from being passed as a payment id. */
export type Id<K extends IdKind> = string & { readonly [idBrand]: K };

/** An account (tenant): `acc_…`. */
export type AccountId = Id<'account'>;
/** An API key: `key_…` (never its secret). */
export type ApiKeyId = Id<'apiKey'>;
/** pay's customer of one end user in one account. */
export type CustomerId = Id<'customer'>;
/** A card saved for a customer (brand, last4 and expiry only). */
export type PaymentMethodId = Id<'paymentMethod'>;
/** A plan: `pln_…`. */
export type PlanId = Id<'plan'>;
/** A payment: `pay_…`. */
export type PaymentId = Id<'payment'>;
/** A row of a payment's append-only event log. */
export type PaymentEventId = Id<'paymentEvent'>;
/** A subscription: `subs_…`. */
export type SubscriptionId = Id<'subscription'>;
/** A row of a subscription's append-only event log. */
export type SubscriptionEventId = Id<'subscriptionEvent'>;
/** A refund: `rfnd_…`. */
export type RefundId = Id<'refund'>;
/** A row of a refund's append-only event log. */
export type RefundEventId = Id<'refundEvent'>;
/** pay's row of a Stripe event in the webhook inbox: `whevt_…` (not Stripe's `evt_…`). */
export type WebhookEventId = Id<'webhookEvent'>;
/** A stored idempotency key of one account. */
export type IdempotencyKeyId = Id<'idempotencyKey'>;
/** A row of the append-only audit log. */
export type AuditEntryId = Id<'auditEntry'>;
/** A dispute (chargeback or inquiry) pay recorded from Stripe. */
export type DisputeId = Id<'dispute'>;

// Crockford's base32 in lowercase: no i, l, o or u, so ids read aloud and copied by hand survive.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
const BODY = new RegExp(`^[${ALPHABET}]{${TIME_CHARS + RANDOM_CHARS}}$`);

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET.charAt(rest % 32) + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function randomChars(): string {
  const bytes = new Uint8Array(RANDOM_CHARS);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const byte of bytes) {
    out += ALPHABET.charAt(byte % 32);
  }
  return out;
}

/**
 * Makes a new id: the kind's prefix, then 10 characters of creation time (so ids sort by creation and
 * list pages can use `starting_after`) and 80 random bits (so ids cannot be guessed or enumerated).
 */
export function newId<K extends IdKind>(kind: K, now: Date = new Date()): Id<K> {
  return `${ID_PREFIXES[kind]}_${encodeTime(now.getTime())}${randomChars()}` as Id<K>;
}

/** True when `value` is a well-formed id of `kind`. */
export function isId<K extends IdKind>(kind: K, value: string): value is Id<K> {
  const prefix = `${ID_PREFIXES[kind]}_`;
  return value.startsWith(prefix) && BODY.test(value.slice(prefix.length));
}

/** Checks an id received from outside, or throws a {@link ValidationError} naming `param`. */
export function parseId<K extends IdKind>(kind: K, value: string, param = 'id'): Id<K> {
  if (!isId(kind, value)) {
    throw new ValidationError(
      `"${value.slice(0, 64)}" is not a valid ${kind} id (expected ${ID_PREFIXES[kind]}_…).`,
      { param },
    );
  }
  return value;
}
