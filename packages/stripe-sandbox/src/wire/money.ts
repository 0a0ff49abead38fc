/*
 * The little money knowledge the sandbox needs: which currencies have no minor unit, Stripe's minimum
 * charge amounts, and the "$45.00" formatting of the over-refund message (SANDBOX.md §3.5, §9 #6).
 */

const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);

const SYMBOLS: Readonly<Record<string, string>> = {
  usd: '$',
  cad: '$',
  aud: '$',
  nzd: '$',
  sgd: '$',
  hkd: '$',
  mxn: '$',
  eur: '€',
  gbp: '£',
  jpy: '¥',
  inr: '₹',
  chf: 'CHF ',
  sek: 'kr',
  nok: 'kr',
  dkk: 'kr',
  pln: 'zł',
  brl: 'R$',
};

/** Minimum charge amounts in minor units (docs.stripe.com/currencies); 50 for currencies not listed. */
const MINIMUMS: Readonly<Record<string, number>> = {
  usd: 50,
  eur: 50,
  gbp: 30,
  cad: 50,
  aud: 50,
  nzd: 50,
  sgd: 50,
  chf: 50,
  jpy: 50,
  hkd: 400,
  mxn: 1000,
  dkk: 250,
  nok: 300,
  sek: 300,
  pln: 200,
  inr: 50,
  brl: 50,
};

/** The largest amount Stripe accepts: eight digits. */
export const MAX_AMOUNT = 99_999_999;

const CURRENCY = /^[a-z]{3}$/;

export function isCurrency(value: string): boolean {
  return CURRENCY.test(value);
}

export function minimumAmount(currency: string): number {
  return MINIMUMS[currency] ?? 50;
}

/** `$45.00`, `¥500`, `€0.50`: the symbol and the amount in major units. */
export function formatMoney(amount: number, currency: string): string {
  const symbol = SYMBOLS[currency] ?? `${currency.toUpperCase()} `;
  if (ZERO_DECIMAL.has(currency)) {
    return `${symbol}${amount.toLocaleString('en-US')}`;
  }
  const major = Math.floor(amount / 100).toLocaleString('en-US');
  const minor = String(amount % 100).padStart(2, '0');
  return `${symbol}${major}.${minor}`;
}
