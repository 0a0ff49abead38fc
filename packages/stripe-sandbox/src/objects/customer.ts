import type { JsonObject } from '../errors.js';
import { newId, randomBase62 } from '../wire/ids.js';

/** Stripe's `customer` object (SANDBOX.md §4.1); keys as the pinned SDK requires plus those the API returns. */
export interface CustomerObject {
  readonly id: string;
  readonly object: 'customer';
  readonly address: JsonObject | null;
  readonly balance: number;
  readonly created: number;
  readonly currency: string | null;
  readonly default_source: string | null;
  readonly delinquent: boolean;
  readonly description: string | null;
  readonly discount: null;
  readonly email: string | null;
  readonly invoice_prefix: string;
  readonly invoice_settings: {
    readonly custom_fields: null;
    readonly default_payment_method: string | null;
    readonly footer: null;
    readonly rendering_options: null;
  };
  readonly livemode: false;
  readonly metadata: Readonly<Record<string, string>>;
  readonly name: string | null;
  readonly next_invoice_sequence: number;
  readonly phone: string | null;
  readonly preferred_locales: readonly string[];
  readonly shipping: JsonObject | null;
  readonly tax_exempt: 'none' | 'exempt' | 'reverse';
  readonly test_clock: null;
}

/** What Stripe answers to DELETE, and to a retrieve of a deleted customer. */
export interface DeletedCustomer {
  readonly id: string;
  readonly object: 'customer';
  readonly deleted: true;
}

/** The fields a create or update may set. */
export interface CustomerFields {
  address?: JsonObject | null;
  balance?: number;
  description?: string | null;
  email?: string | null;
  name?: string | null;
  phone?: string | null;
  preferred_locales?: string[];
  shipping?: JsonObject | null;
  tax_exempt?: CustomerObject['tax_exempt'];
}

export function newCustomer(
  created: number,
  fields: CustomerFields,
  metadata: Record<string, string>,
): CustomerObject {
  return {
    id: newId('cus', 14),
    object: 'customer',
    address: fields.address ?? null,
    balance: fields.balance ?? 0,
    created,
    currency: null,
    default_source: null,
    delinquent: false,
    description: fields.description ?? null,
    discount: null,
    email: fields.email ?? null,
    invoice_prefix: randomBase62(8).toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata,
    name: fields.name ?? null,
    next_invoice_sequence: 1,
    phone: fields.phone ?? null,
    preferred_locales: fields.preferred_locales ?? [],
    shipping: fields.shipping ?? null,
    tax_exempt: fields.tax_exempt ?? 'none',
    test_clock: null,
  };
}
