import type { CoreSettings } from '../core.js';
import { InvalidRequestError } from '../errors.js';
import { formatMoney, isCurrency, MAX_AMOUNT, minimumAmount } from '../wire/money.js';
import type { Params } from '../wire/params.js';
import type { ConfirmInput } from './payment-intent-flow.js';
import { parsePaymentMethodInput, PAYMENT_METHOD_DATA_PARAMS } from './payment-method-source.js';

/*
 * The validation stage of the PaymentIntent endpoints: parameter lists and readers. Everything here
 * throws before execution, so none of it is stored under an idempotency key.
 */

/** Every parameter the pinned SDK (and ≤ v22's `payment_method_types`) can send on create. */
export const CREATE_PARAMS = [
  'amount',
  'currency',
  'allowed_payment_method_types',
  'amount_details',
  'application_fee_amount',
  'automatic_payment_methods',
  'capture_method',
  'confirm',
  'confirmation_method',
  'confirmation_token',
  'customer',
  'customer_account',
  'description',
  'error_on_requires_action',
  'excluded_payment_method_types',
  'hooks',
  'mandate',
  'mandate_data',
  'metadata',
  'off_session',
  'on_behalf_of',
  'payment_details',
  'payment_method',
  'payment_method_configuration',
  'payment_method_data',
  'payment_method_options',
  'payment_method_types',
  'radar_options',
  'receipt_email',
  'return_url',
  'setup_future_usage',
  'shipping',
  'statement_descriptor',
  'statement_descriptor_suffix',
  'transfer_data',
  'transfer_group',
  'use_stripe_sdk',
];
export const CONFIRM_PARAMS = [
  'allowed_payment_method_types',
  'amount_details',
  'amount_to_confirm',
  'capture_method',
  'client_secret',
  'confirmation_token',
  'error_on_requires_action',
  'excluded_payment_method_types',
  'hooks',
  'mandate',
  'mandate_data',
  'off_session',
  'payment_details',
  'payment_method',
  'payment_method_data',
  'payment_method_options',
  'payment_method_types',
  'radar_options',
  'receipt_email',
  'return_url',
  'setup_future_usage',
  'shipping',
  'use_stripe_sdk',
];
export const UPDATE_PARAMS = [
  'allowed_payment_method_types',
  'amount',
  'amount_details',
  'application_fee_amount',
  'capture_method',
  'currency',
  'customer',
  'customer_account',
  'description',
  'excluded_payment_method_types',
  'hooks',
  'metadata',
  'payment_details',
  'payment_method',
  'payment_method_configuration',
  'payment_method_data',
  'payment_method_options',
  'payment_method_types',
  'receipt_email',
  'setup_future_usage',
  'shipping',
  'statement_descriptor',
  'statement_descriptor_suffix',
  'transfer_data',
  'transfer_group',
];
/** Fields an intent past `requires_action` still lets you change. */
export const ALWAYS_UPDATABLE = ['metadata', 'description', 'receipt_email', 'shipping', 'expand'];
export const UPDATABLE_STATUSES = ['requires_payment_method', 'requires_confirmation', 'requires_action'];

export function checkAmount(amount: number, currency: string, param = 'amount'): void {
  const min = minimumAmount(currency);
  if (amount < min) {
    throw new InvalidRequestError(`Amount must be at least ${formatMoney(min, currency)} ${currency}`, {
      code: 'amount_too_small',
      param,
    });
  }
  if (amount > MAX_AMOUNT) {
    throw new InvalidRequestError(`Amount must be no more than ${formatMoney(MAX_AMOUNT, currency)}`, {
      code: 'amount_too_large',
      param,
    });
  }
}

export function parseCurrency(p: Params): string | undefined {
  const raw = p.string('currency');
  if (raw === undefined || raw === null) {
    return undefined;
  }
  const currency = raw.toLowerCase();
  if (!isCurrency(currency)) {
    throw new InvalidRequestError(`Invalid currency: ${raw}.`, { param: 'currency' });
  }
  return currency;
}

export function parseRequestThreeDSecure(p: Params): ConfirmInput['requestThreeDSecure'] {
  const card = p.hash('payment_method_options', 'any')?.hash('card', 'any');
  return card?.enumeration('request_three_d_secure', ['automatic', 'any', 'challenge']) ?? undefined;
}

export function parseConfirmInput(p: Params, settings: Readonly<CoreSettings>): ConfirmInput {
  const offSession = p.string('off_session');
  if (
    offSession !== undefined &&
    offSession !== null &&
    !['true', 'false', 'one_off', 'recurring'].includes(offSession)
  ) {
    throw new InvalidRequestError(`Invalid off_session: must be a boolean, one_off, or recurring`, {
      param: 'off_session',
    });
  }
  const data = p.hash('payment_method_data', PAYMENT_METHOD_DATA_PARAMS);
  return {
    paymentMethod: p.string('payment_method') ?? undefined,
    paymentMethodData:
      data === undefined || data === null ? undefined : parsePaymentMethodInput(data, settings.rawCardData),
    returnUrl: p.string('return_url'),
    offSession: offSession === undefined || offSession === null ? undefined : offSession !== 'false',
    setupFutureUsage: p.enumeration('setup_future_usage', ['on_session', 'off_session']),
    captureMethod: p.enumeration('capture_method', ['automatic', 'automatic_async', 'manual']) ?? undefined,
    errorOnRequiresAction: p.boolean('error_on_requires_action'),
    requestThreeDSecure: parseRequestThreeDSecure(p),
    receiptEmail: p.string('receipt_email'),
    shipping: p.json('shipping'),
  };
}

/** Explicit method types (card only in the sandbox), or null for dynamic payment methods. */
export function parseMethodTypes(p: Params): { types: string[] | null; allowRedirects: 'always' | 'never' } {
  const types = p.stringArray('allowed_payment_method_types') ?? p.stringArray('payment_method_types');
  const apm = p.hash('automatic_payment_methods', ['enabled', 'allow_redirects']);
  const enabled = apm?.boolean('enabled');
  const allowRedirects = apm?.enumeration('allow_redirects', ['always', 'never']) ?? 'always';
  if (types !== undefined && types.length > 0 && enabled === true) {
    throw new InvalidRequestError(
      'You may only specify one of these parameters: automatic_payment_methods, payment_method_types.',
      { param: 'automatic_payment_methods' },
    );
  }
  for (const type of types ?? []) {
    if (type !== 'card') {
      throw new InvalidRequestError(
        `The payment method type "${type}" is invalid or not supported by the sandbox.`,
        {
          param: 'payment_method_types',
        },
      );
    }
  }
  if (types !== undefined && types.length > 0) {
    return { types, allowRedirects };
  }
  return { types: enabled === false ? ['card'] : null, allowRedirects };
}
