import { ValidationError } from './errors.js';

/**
 * ISO-4217 currencies pay accepts, lowercase as Stripe spells them, with the number of minor units
 * Stripe uses for each (zero-decimal currencies such as `jpy` take whole units; three-decimal ones such
 * as `kwd` take thousandths, and Stripe requires their last digit to be 0).
 */
export const CURRENCY_MINOR_UNITS = {
  aed: 2,
  aud: 2,
  bgn: 2,
  bhd: 3,
  bif: 0,
  brl: 2,
  cad: 2,
  chf: 2,
  clp: 0,
  cny: 2,
  czk: 2,
  djf: 0,
  dkk: 2,
  eur: 2,
  gbp: 2,
  gnf: 0,
  hkd: 2,
  huf: 2,
  idr: 2,
  ils: 2,
  inr: 2,
  isk: 0,
  jod: 3,
  jpy: 0,
  kmf: 0,
  krw: 0,
  kwd: 3,
  mga: 0,
  mxn: 2,
  myr: 2,
  nok: 2,
  nzd: 2,
  omr: 3,
  php: 2,
  pln: 2,
  pyg: 0,
  ron: 2,
  rwf: 0,
  sek: 2,
  sgd: 2,
  thb: 2,
  tnd: 3,
  try: 2,
  twd: 2,
  ugx: 0,
  usd: 2,
  vnd: 0,
  vuv: 0,
  xaf: 0,
  xof: 0,
  xpf: 0,
  zar: 2,
} as const satisfies Record<string, 0 | 2 | 3>;

/** A lowercase ISO-4217 code pay accepts (a key of {@link CURRENCY_MINOR_UNITS}). */
export type Currency = keyof typeof CURRENCY_MINOR_UNITS;

/** Every currency code pay accepts. */
export const CURRENCIES = Object.freeze(Object.keys(CURRENCY_MINOR_UNITS) as Currency[]);

/** Stripe's largest charge amount: eight digits of minor units. */
export const MAX_AMOUNT = 99_999_999;

/** An amount of money: an integer count of the currency's minor units. Never a float. */
export interface Money {
  /** A safe integer of minor units (cents for usd, yen for jpy, thousandths for kwd). */
  readonly amount: number;
  /** The currency the amount is counted in; amounts of two currencies never combine. */
  readonly currency: Currency;
}

/** True for a code pay accepts, narrowing a string from outside to {@link Currency}. */
export function isCurrency(value: string): value is Currency {
  return Object.prototype.hasOwnProperty.call(CURRENCY_MINOR_UNITS, value);
}

/** How many decimal places the currency's minor unit has (0 for jpy, 2 for usd, 3 for kwd). */
export function minorUnits(currency: Currency): 0 | 2 | 3 {
  return CURRENCY_MINOR_UNITS[currency];
}

/** Parses a currency code (any case), or throws a {@link ValidationError} naming `param`. */
export function parseCurrency(value: string, param = 'currency'): Currency {
  const code = value.toLowerCase();
  if (!isCurrency(code)) {
    throw new ValidationError(
      `Unsupported currency "${value}": expected a lowercase ISO-4217 code such as usd.`,
      { param },
    );
  }
  return code;
}

/**
 * Builds a chargeable amount: a positive safe integer of minor units, within Stripe's limit, obeying the
 * currency's minor-unit rule. Throws a {@link ValidationError} naming `param` otherwise.
 */
export function money(amount: number, currency: Currency, param = 'amount'): Money {
  if (!Number.isSafeInteger(amount)) {
    throw new ValidationError(
      `The amount must be an integer number of minor units (cents), got ${String(amount)}.`,
      { param },
    );
  }
  if (amount <= 0) {
    throw new ValidationError(`The amount must be greater than 0, got ${amount}.`, { param });
  }
  if (amount > MAX_AMOUNT) {
    throw new ValidationError(`The amount must be at most ${MAX_AMOUNT} minor units, got ${amount}.`, {
      param,
    });
  }
  if (minorUnits(currency) === 3 && amount % 10 !== 0) {
    throw new ValidationError(
      `Amounts in ${currency} must end in 0 (Stripe rounds three-decimal currencies to tens).`,
      { param },
    );
  }
  return Object.freeze({ amount, currency });
}

function sameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw new ValidationError(`Cannot combine ${a.currency} with ${b.currency}.`, { param: 'currency' });
  }
}

/** a + b, in one currency. */
export function addMoney(a: Money, b: Money): Money {
  sameCurrency(a, b);
  const amount = a.amount + b.amount;
  if (!Number.isSafeInteger(amount)) {
    throw new ValidationError('The sum overflows a safe integer.', { param: 'amount' });
  }
  return Object.freeze({ amount, currency: a.currency });
}

/** a − b, in one currency; the result may be zero but never negative. */
export function subtractMoney(a: Money, b: Money): Money {
  sameCurrency(a, b);
  if (b.amount > a.amount) {
    throw new ValidationError(`Cannot subtract ${b.amount} from ${a.amount}: the result would be negative.`, {
      param: 'amount',
    });
  }
  return Object.freeze({ amount: a.amount - b.amount, currency: a.currency });
}

/** Renders an amount for people (`12.34 USD`, `1000 JPY`) with integer arithmetic only. */
export function formatMoney(m: Money): string {
  const digits = minorUnits(m.currency);
  const code = m.currency.toUpperCase();
  if (digits === 0) {
    return `${m.amount} ${code}`;
  }
  const text = String(m.amount).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)} ${code}`;
}
