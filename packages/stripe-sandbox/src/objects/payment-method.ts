import { createHash } from 'node:crypto';
import type { TestCard } from '../cards.js';
import type { JsonObject } from '../errors.js';
import { newId } from '../wire/ids.js';

export interface BillingDetails {
  readonly address: {
    readonly city: string | null;
    readonly country: string | null;
    readonly line1: string | null;
    readonly line2: string | null;
    readonly postal_code: string | null;
    readonly state: string | null;
  };
  readonly email: string | null;
  readonly name: string | null;
  readonly phone: string | null;
  readonly tax_id: string | null;
}

export interface CardDetails {
  readonly brand: string;
  readonly checks: JsonObject;
  readonly country: string;
  readonly display_brand: string;
  readonly exp_month: number;
  readonly exp_year: number;
  readonly fingerprint: string;
  readonly funding: string;
  readonly generated_from: null;
  readonly last4: string;
  readonly networks: { readonly available: readonly string[]; readonly preferred: null };
  readonly regulated_status: string;
  readonly three_d_secure_usage: { readonly supported: boolean };
  readonly wallet: null;
}

/** Stripe's `payment_method` object for cards (SANDBOX.md §4.2). */
export interface PaymentMethodObject {
  readonly id: string;
  readonly object: 'payment_method';
  readonly allow_redisplay: 'always' | 'limited' | 'unspecified';
  readonly billing_details: BillingDetails;
  readonly card: CardDetails;
  readonly created: number;
  readonly customer: string | null;
  readonly customer_account: null;
  readonly livemode: false;
  readonly metadata: Readonly<Record<string, string>>;
  readonly type: 'card';
}

export const EMPTY_BILLING_DETAILS: BillingDetails = {
  address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
  email: null,
  name: null,
  phone: null,
  tax_id: null,
};

// Few distinct cards per account are ever used; caching saves a sha256 per PaymentMethod on the hot path.
const fingerprints = new Map<string, string>();

/** Stable per card number per account, like Stripe's (SANDBOX.md §4.2 "Fingerprint"). */
export function cardFingerprint(account: string, number: string): string {
  const key = `${account}:${number}`;
  const cached = fingerprints.get(key);
  if (cached !== undefined) {
    return cached;
  }
  if (fingerprints.size > 100_000) {
    fingerprints.clear();
  }
  const fingerprint = createHash('sha256').update(key).digest('base64url').replace(/[-_]/g, 'x').slice(0, 16);
  fingerprints.set(key, fingerprint);
  return fingerprint;
}

export interface NewPaymentMethod {
  card: TestCard;
  account: string;
  created: number;
  expMonth: number;
  expYear: number;
  billingDetails?: BillingDetails;
  metadata?: Record<string, string>;
  allowRedisplay?: PaymentMethodObject['allow_redisplay'];
}

// Constant parts shared by every PaymentMethod that has them: stored objects are never mutated.
const CHECKS = { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' };
const SUPPORTS_3DS = { supported: true };
const NO_3DS = { supported: false };
const networks = new Map<string, CardDetails['networks']>();

function networksOf(brand: string): CardDetails['networks'] {
  let value = networks.get(brand);
  if (value === undefined) {
    value = { available: [brand], preferred: null };
    networks.set(brand, value);
  }
  return value;
}

export function newPaymentMethod(input: NewPaymentMethod): PaymentMethodObject {
  const { card } = input;
  return {
    id: newId('pm'),
    object: 'payment_method',
    allow_redisplay: input.allowRedisplay ?? 'unspecified',
    billing_details: input.billingDetails ?? EMPTY_BILLING_DETAILS,
    card: {
      brand: card.brand,
      checks: CHECKS,
      country: 'US',
      display_brand: card.brand,
      exp_month: input.expMonth,
      exp_year: input.expYear,
      fingerprint: cardFingerprint(input.account, card.number),
      funding: 'credit',
      generated_from: null,
      last4: card.number.slice(-4),
      networks: networksOf(card.brand),
      regulated_status: 'unregulated',
      three_d_secure_usage: card.threeDSecure === 'never' ? NO_3DS : SUPPORTS_3DS,
      wallet: null,
    },
    created: input.created,
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: input.metadata ?? {},
    type: 'card',
  };
}
