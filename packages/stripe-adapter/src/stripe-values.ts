import { isCurrency, UnknownGatewayStateError, type Currency } from '@pay/core';

/**
 * The literal members of one of the SDK's open enums. The SDK widens each enum with `string & {}` so that
 * code is ready for values its version does not list; this keeps the listed ones for a `switch`.
 */
export type KnownLiterals<T> = T extends string ? (string extends T ? never : T) : never;

/** The id of a field Stripe sends as an id, or as the object when it was expanded. */
export function idOf(value: string | { id: string } | null): string | null {
  return value === null ? null : typeof value === 'string' ? value : value.id;
}

/** A currency from Stripe, checked against the ones pay knows: amounts mean nothing without it. */
export function currencyOf(value: string, what: string, context: Record<string, unknown>): Currency {
  if (!isCurrency(value)) {
    throw new UnknownGatewayStateError(`${what} is in a currency pay does not know.`, {
      context: { ...context, currency: value },
    });
  }
  return value;
}
