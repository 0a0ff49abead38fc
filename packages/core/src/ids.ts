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

export type IdKind = keyof typeof ID_PREFIXES;

declare const idBrand: unique symbol;
/** A prefixed id of one kind of object; the brand keeps a refund id from being passed as a payment id. */
export type Id<K extends IdKind> = string & { readonly [idBrand]: K };

export type AccountId = Id<'account'>;
export type ApiKeyId = Id<'apiKey'>;
export type CustomerId = Id<'customer'>;
export type PaymentMethodId = Id<'paymentMethod'>;
export type PlanId = Id<'plan'>;
export type PaymentId = Id<'payment'>;
export type PaymentEventId = Id<'paymentEvent'>;
export type SubscriptionId = Id<'subscription'>;
export type SubscriptionEventId = Id<'subscriptionEvent'>;
export type RefundId = Id<'refund'>;
export type RefundEventId = Id<'refundEvent'>;
export type WebhookEventId = Id<'webhookEvent'>;
export type IdempotencyKeyId = Id<'idempotencyKey'>;
export type AuditEntryId = Id<'auditEntry'>;
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
