import { cardForAlias, cardForNumber, INCORRECT_NUMBER, isTestAlias, type TestCard } from '../cards.js';
import { CardError, InvalidRequestError, resourceMissing } from '../errors.js';
import {
  EMPTY_BILLING_DETAILS,
  newPaymentMethod,
  type BillingDetails,
  type PaymentMethodObject,
} from '../objects/payment-method.js';
import type { PaymentMethodRecord } from '../store/account.js';
import type { Params } from '../wire/params.js';
import type { ExecContext } from './context.js';

/*
 * Where PaymentMethods come from: test aliases (`pm_card_visa`, `tok_visa`), which materialise a new
 * PaymentMethod wherever an id is accepted (SANDBOX.md §4.2), raw card numbers, and stored ids.
 */

const UNSAFE_RAW_CARD =
  'Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you use test tokens that map to the test card you are using, see https://stripe.com/docs/testing. To enable testing raw card data APIs, see https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis.';

export type CardInput =
  { kind: 'token'; token: string } | { kind: 'number'; number: string; expMonth: number; expYear: number };

export interface PaymentMethodInput {
  card: CardInput;
  billingDetails: BillingDetails | undefined;
  metadata: Record<string, string> | undefined;
  allowRedisplay: PaymentMethodObject['allow_redisplay'] | undefined;
}

/** Parameters of `POST /v1/payment_methods` and of `payment_method_data`. */
export const PAYMENT_METHOD_DATA_PARAMS = [
  'type',
  'card',
  'billing_details',
  'metadata',
  'allow_redisplay',
] as const;

const ADDRESS_KEYS = ['city', 'country', 'line1', 'line2', 'postal_code', 'state'] as const;

export function parseBillingDetails(p: Params, key = 'billing_details'): BillingDetails | undefined {
  const bd = p.hash(key, ['address', 'email', 'name', 'phone', 'tax_id']);
  if (bd === undefined || bd === null) {
    return bd === null ? EMPTY_BILLING_DETAILS : undefined;
  }
  const address = bd.hash('address', ADDRESS_KEYS);
  const a = { ...EMPTY_BILLING_DETAILS.address };
  for (const k of ADDRESS_KEYS) {
    a[k] = address?.string(k) ?? null;
  }
  return {
    address: a,
    email: bd.string('email') ?? null,
    name: bd.string('name') ?? null,
    phone: bd.string('phone') ?? null,
    tax_id: bd.string('tax_id') ?? null,
  };
}

/** Validation stage: reads `type=card`, `card[…]`, `billing_details`, `metadata` (keys checked by the caller). */
export function parsePaymentMethodInput(p: Params, rawCardData: 'accept' | 'reject'): PaymentMethodInput {
  const type = p.requiredString('type');
  if (type !== 'card') {
    throw new InvalidRequestError(`The sandbox supports only PaymentMethods of type card, not ${type}.`, {
      param: p.name('type'),
    });
  }
  const card = p.hash('card', ['number', 'exp_month', 'exp_year', 'cvc', 'token', 'networks']);
  if (card === undefined || card === null) {
    throw new InvalidRequestError(`Missing required param: ${p.name('card')}.`, {
      code: 'parameter_missing',
      param: p.name('card'),
    });
  }
  const token = card.string('token');
  let cardInput: CardInput;
  if (token !== undefined && token !== null) {
    if (card.has('number')) {
      throw new InvalidRequestError(
        `You cannot pass both ${card.name('token')} and ${card.name('number')}.`,
        {
          param: card.name('token'),
        },
      );
    }
    cardInput = { kind: 'token', token };
  } else {
    const number = card.requiredString('number').replace(/[\s-]/g, '');
    if (rawCardData === 'reject') {
      throw new InvalidRequestError(UNSAFE_RAW_CARD);
    }
    cardInput = {
      kind: 'number',
      number,
      expMonth: card.requiredInteger('exp_month'),
      expYear: card.requiredInteger('exp_year'),
    };
    card.string('cvc');
  }
  const metadata = p.metadata();
  const allowRedisplay = p.enumeration('allow_redisplay', ['always', 'limited', 'unspecified']) ?? undefined;
  return {
    card: cardInput,
    billingDetails: parseBillingDetails(p),
    metadata: metadata?.set,
    allowRedisplay,
  };
}

function defaultExpiry(ctx: ExecContext): { expMonth: number; expYear: number } {
  return { expMonth: 12, expYear: new Date(ctx.now * 1000).getUTCFullYear() + 3 };
}

function store(
  ctx: ExecContext,
  card: TestCard,
  input: Omit<Parameters<typeof newPaymentMethod>[0], 'card' | 'account' | 'created'>,
): PaymentMethodRecord {
  const object = newPaymentMethod({ ...input, card, account: ctx.account.id, created: ctx.now });
  const record: PaymentMethodRecord = { object, card, setUpForOffSession: false };
  ctx.account.paymentMethods.insert(object.id, record);
  ctx.created('payment_method', object.id);
  return record;
}

/**
 * Execution stage: creates a PaymentMethod, with Stripe's 402s for a bad number or expiry (`param` is the
 * card field's bare name, `number`, as Stripe reports it).
 */
export function createPaymentMethod(ctx: ExecContext, input: PaymentMethodInput): PaymentMethodRecord {
  const extras = {
    ...(input.billingDetails === undefined ? {} : { billingDetails: input.billingDetails }),
    ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
    ...(input.allowRedisplay === undefined ? {} : { allowRedisplay: input.allowRedisplay }),
  };
  if (input.card.kind === 'token') {
    const card = cardForAlias(input.card.token);
    if (card === undefined || !input.card.token.startsWith('tok_')) {
      throw resourceMissing('token', input.card.token, 'card[token]');
    }
    return store(ctx, card, { ...defaultExpiry(ctx), ...extras });
  }
  const { number, expMonth } = input.card;
  const expYear = input.card.expYear < 100 ? 2000 + input.card.expYear : input.card.expYear;
  const card = cardForNumber(number);
  if (card === undefined) {
    throw new CardError(INCORRECT_NUMBER.message, {
      code: INCORRECT_NUMBER.code,
      param: 'number',
    });
  }
  if (expMonth < 1 || expMonth > 12) {
    throw new CardError("Your card's expiration month is invalid.", {
      code: 'invalid_expiry_month',
      param: 'exp_month',
    });
  }
  const today = new Date(ctx.now * 1000);
  const year = today.getUTCFullYear();
  if (expYear < year || expYear > year + 50) {
    throw new CardError("Your card's expiration year is invalid.", {
      code: 'invalid_expiry_year',
      param: 'exp_year',
    });
  }
  if (expYear === year && expMonth < today.getUTCMonth() + 1) {
    throw new CardError("Your card's expiration month is invalid.", {
      code: 'invalid_expiry_month',
      param: 'exp_month',
    });
  }
  return store(ctx, card, { expMonth, expYear, ...extras });
}

/**
 * The PaymentMethod behind an id given as a parameter: a test alias materialises a new one, a `pm_…` id is
 * looked up. Unknown ids are Stripe's 404 with `param` naming the parameter.
 */
export function resolvePaymentMethod(ctx: ExecContext, id: string, param: string): PaymentMethodRecord {
  const stored = ctx.account.paymentMethods.get(id);
  if (stored !== undefined) {
    return stored;
  }
  if (isTestAlias(id)) {
    const card = cardForAlias(id);
    if (card !== undefined) {
      return store(ctx, card, defaultExpiry(ctx));
    }
  }
  throw resourceMissing('payment_method', id, param);
}
