/*
 * Stripe's test cards (SANDBOX.md §4.2) as data: the single source of truth for what a card does when it
 * is charged. Flows read the row's fields; nothing branches on a card number.
 */

/** A decline as the issuer reports it: the 402 body's code, decline code, message and param. */
export interface Decline {
  code: string;
  declineCode?: string;
  message: string;
  param?: string;
}

/**
 * When a card asks for 3-D Secure: `never` (not enrolled, e.g. the amex card), `on_request` (only when
 * `request_three_d_secure` is `any`/`challenge`; most cards), `always` (every payment; off-session ones
 * fail with `authentication_required`), `unless_set_up` (every on-session payment; off-session ones
 * succeed once the card was set up for off-session use).
 */
export type ThreeDSecureBehaviour = 'never' | 'on_request' | 'always' | 'unless_set_up';

export interface TestCard {
  number: string;
  brand: 'visa' | 'mastercard' | 'amex' | 'discover' | 'unknown';
  /** `pm_card_*` and `tok_*` ids that materialise this card. */
  aliases: readonly string[];
  threeDSecure: ThreeDSecureBehaviour;
  /** The decline on every charge (after authentication, for 3-D Secure cards). */
  decline?: Decline;
  /** Whether attaching the card to a customer succeeds under `declineOnAttach` (4000000000000341 does). */
  attachSucceeds?: boolean;
  /** A dispute opens shortly after a successful charge (4000000000000259). */
  disputes?: boolean;
  /** Refunds of its captured charges change status later; absent: they succeed at once and stay so. */
  asyncRefund?: AsyncRefund;
}

/**
 * A refund's later life, as Stripe's two asynchronous-refund test cards show it (docs.stripe.com/testing,
 * "Simulate an asynchronous refund"): live card refunds are asynchronous, so one can start `pending` and
 * succeed later, or look `succeeded` at first and fail later, giving the money back to the charge.
 */
export type AsyncRefund =
  | { readonly starts: 'pending'; readonly ends: 'succeeded' }
  | { readonly starts: 'succeeded'; readonly ends: 'failed'; readonly failureReason: string };

/** Stripe's plain decline (`generic_decline`), also what a settled `processing` fault's `failed` uses. */
export const DECLINED: Decline = {
  code: 'card_declined',
  declineCode: 'generic_decline',
  message: 'Your card was declined.',
};

const declined = (declineCode: string, message = 'Your card was declined.'): Decline => ({
  code: 'card_declined',
  declineCode,
  message,
});

/** The off-session failure of a card that needs authentication. */
export const AUTHENTICATION_REQUIRED: Decline = {
  code: 'authentication_required',
  declineCode: 'authentication_required',
  message: 'Your card was declined. This transaction requires authentication.',
};

/** Luhn-failing numbers, at PaymentMethod creation. */
export const INCORRECT_NUMBER: Decline = {
  code: 'incorrect_number',
  message: 'Your card number is incorrect.',
  param: 'number',
};

export const TEST_CARDS: readonly TestCard[] = [
  {
    number: '4242424242424242',
    brand: 'visa',
    aliases: ['pm_card_visa', 'tok_visa'],
    threeDSecure: 'on_request',
  },
  {
    number: '5555555555554444',
    brand: 'mastercard',
    aliases: ['pm_card_mastercard', 'tok_mastercard'],
    threeDSecure: 'on_request',
  },
  {
    number: '4000000000000002',
    brand: 'visa',
    aliases: [
      'pm_card_visa_chargeDeclined',
      'pm_card_chargeDeclined',
      'tok_chargeDeclined',
      'tok_visa_chargeDeclined',
    ],
    threeDSecure: 'on_request',
    decline: DECLINED,
  },
  {
    number: '4000000000009995',
    brand: 'visa',
    aliases: [
      'pm_card_visa_chargeDeclinedInsufficientFunds',
      'pm_card_chargeDeclinedInsufficientFunds',
      'tok_chargeDeclinedInsufficientFunds',
    ],
    threeDSecure: 'on_request',
    decline: declined('insufficient_funds', 'Your card has insufficient funds.'),
  },
  {
    number: '4000000000009987',
    brand: 'visa',
    aliases: [
      'pm_card_visa_chargeDeclinedLostCard',
      'pm_card_chargeDeclinedLostCard',
      'tok_chargeDeclinedLostCard',
    ],
    threeDSecure: 'on_request',
    decline: declined('lost_card'),
  },
  {
    number: '4000000000009979',
    brand: 'visa',
    aliases: [
      'pm_card_visa_chargeDeclinedStolenCard',
      'pm_card_chargeDeclinedStolenCard',
      'tok_chargeDeclinedStolenCard',
    ],
    threeDSecure: 'on_request',
    decline: declined('stolen_card'),
  },
  {
    number: '4000000000000069',
    brand: 'visa',
    aliases: [
      'pm_card_chargeDeclinedExpiredCard',
      'pm_card_visa_chargeDeclinedExpiredCard',
      'tok_chargeDeclinedExpiredCard',
    ],
    threeDSecure: 'on_request',
    decline: { code: 'expired_card', message: 'Your card has expired.', param: 'exp_month' },
  },
  {
    number: '4000000000000127',
    brand: 'visa',
    aliases: [
      'pm_card_chargeDeclinedIncorrectCvc',
      'pm_card_visa_chargeDeclinedIncorrectCvc',
      'tok_chargeDeclinedIncorrectCvc',
    ],
    threeDSecure: 'on_request',
    decline: { code: 'incorrect_cvc', message: "Your card's security code is incorrect.", param: 'cvc' },
  },
  {
    number: '4000000000000119',
    brand: 'visa',
    aliases: [
      'pm_card_chargeDeclinedProcessingError',
      'pm_card_visa_chargeDeclinedProcessingError',
      'tok_chargeDeclinedProcessingError',
    ],
    threeDSecure: 'on_request',
    decline: {
      code: 'processing_error',
      message: 'An error occurred while processing your card. Try again in a little bit.',
    },
  },
  {
    number: '4000000000006975',
    brand: 'visa',
    aliases: ['pm_card_visa_chargeDeclinedVelocityLimitExceeded'],
    threeDSecure: 'on_request',
    decline: declined('card_velocity_exceeded'),
  },
  {
    number: '4000000000000341',
    brand: 'visa',
    aliases: ['pm_card_chargeCustomerFail', 'tok_chargeCustomerFail'],
    threeDSecure: 'on_request',
    decline: DECLINED,
    attachSucceeds: true,
  },
  {
    number: '4000000000000259',
    brand: 'visa',
    aliases: ['pm_card_createDispute', 'tok_createDispute'],
    threeDSecure: 'on_request',
    disputes: true,
  },
  {
    number: '4000000000007726',
    brand: 'visa',
    aliases: ['pm_card_pendingRefund', 'tok_pendingRefund'],
    threeDSecure: 'on_request',
    asyncRefund: { starts: 'pending', ends: 'succeeded' },
  },
  {
    number: '4000000000005126',
    brand: 'visa',
    aliases: ['pm_card_refundFail', 'tok_refundFail'],
    threeDSecure: 'on_request',
    asyncRefund: { starts: 'succeeded', ends: 'failed', failureReason: 'expired_or_canceled_card' },
  },
  {
    number: '4000000000003220',
    brand: 'visa',
    aliases: ['pm_card_threeDSecure2Required', 'tok_threeDSecure2Required'],
    threeDSecure: 'always',
  },
  {
    number: '4000002760003184',
    brand: 'visa',
    aliases: ['pm_card_authenticationRequired', 'tok_authenticationRequired'],
    threeDSecure: 'always',
  },
  {
    number: '4000002500003155',
    brand: 'visa',
    aliases: ['pm_card_authenticationRequiredOnSetup', 'tok_authenticationRequiredOnSetup'],
    threeDSecure: 'unless_set_up',
  },
  {
    number: '4000008400001629',
    brand: 'visa',
    aliases: ['pm_card_threeDSecureRequiredChargeDeclined', 'tok_threeDSecureRequiredChargeDeclined'],
    threeDSecure: 'always',
    decline: DECLINED,
  },
  {
    number: '4000000000003055',
    brand: 'visa',
    aliases: ['pm_card_threeDSecureOptional', 'tok_threeDSecureOptional'],
    threeDSecure: 'on_request',
  },
  {
    number: '378282246310005',
    brand: 'amex',
    aliases: ['pm_card_amex_threeDSecureNotSupported', 'pm_card_amex', 'tok_amex'],
    threeDSecure: 'never',
  },
];

const BY_NUMBER = new Map(TEST_CARDS.map((card) => [card.number, card]));
const BY_ALIAS = new Map(TEST_CARDS.flatMap((card) => card.aliases.map((alias) => [alias, card] as const)));

/** The table row of a `pm_card_*` / `tok_*` alias, if it is one. */
export function cardForAlias(alias: string): TestCard | undefined {
  return BY_ALIAS.get(alias);
}

/** Whether `id` looks like a test alias (known or not), so an unknown one is a 404 rather than a lookup. */
export function isTestAlias(id: string): boolean {
  return id.startsWith('pm_card_') || id.startsWith('tok_');
}

/** Luhn check over a string of digits. */
export function luhnValid(number: string): boolean {
  if (!/^\d{12,19}$/.test(number)) {
    return false;
  }
  let sum = 0;
  for (let i = 0; i < number.length; i += 1) {
    let digit = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) {
        digit -= 9;
      }
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

function brandOf(number: string): TestCard['brand'] {
  if (number.startsWith('4')) {
    return 'visa';
  }
  if (/^(5[1-5]|2[2-7])/.test(number)) {
    return 'mastercard';
  }
  if (/^3[47]/.test(number)) {
    return 'amex';
  }
  if (/^(6011|65|64[4-9])/.test(number)) {
    return 'discover';
  }
  return 'unknown';
}

/**
 * The row for a raw card number: a table row, or — for any other Luhn-valid number — a card that behaves
 * like 4242424242424242 with the number's own brand. Undefined when the number fails Luhn.
 */
export function cardForNumber(number: string): TestCard | undefined {
  const known = BY_NUMBER.get(number);
  if (known) {
    return known;
  }
  if (!luhnValid(number)) {
    return undefined;
  }
  return { number, brand: brandOf(number), aliases: [], threeDSecure: 'on_request' };
}
