/**
 * Finds card data in untrusted input, so the API can refuse it before anything reads, stores or logs it
 * (DESIGN.md §2 invariant 2). Pure: it walks plain values and never returns the value it found, only
 * where it was.
 */

/** A step of the path to a value: an object key or an array index. */
export type CardDataPathSegment = string | number;

/**
 * What {@link findCardData} found. `pan`: a value (or a key) that looks like a card number.
 * `card_field`: a field whose name says it holds card data (`card`, `cvc`, `cvv`, …), whatever its value.
 */
export interface CardDataFinding {
  /**
   * `pan` for a value or key that passes the card-number checks, `card_field` for a field named like card
   * data.
   */
  readonly kind: 'pan' | 'card_field';
  /** Where it is; empty when the input itself is the value. Never the value. */
  readonly path: readonly CardDataPathSegment[];
}

/** Options of {@link findCardData}. */
export interface FindCardDataOptions {
  /** Also refuse fields named like card data ({@link isCardFieldName}); PANs are refused either way. */
  readonly cardFields?: boolean;
}

/** Luhn's checksum over a string of decimal digits, as card networks compute it. */
export function isLuhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) {
        d -= 9;
      }
    }
    sum += d;
  }
  return sum % 10 === 0;
}

// Digit groups joined by single spaces or dashes ("4242 4242 4242 4242", "3782-822463-10005"). A run
// glued to a letter or `_` is part of an identifier (pay's and Stripe's ids are letters and digits), not
// a number someone typed, so it does not count.
const DIGIT_RUN = /(?<![A-Za-z0-9_])\d+(?:[ -]\d+)*(?![A-Za-z0-9_])/g;
const DIGITS = /\d+/g;

const MIN_PAN = 13;
const MAX_PAN = 19;

/*
 * The first digit of a PAN is its major industry: 2 (Mastercard's 2-series), 3 (Amex, Diners, JCB),
 * 4 (Visa), 5 (Mastercard), 6 (Discover, UnionPay). Every network Stripe takes starts with one of them.
 * Epoch timestamps in milliseconds are 13 digits (from 2001 to 2286) and pass Luhn a tenth of the
 * time; those before mid-2033 start with 1. Only Visa ever issued 13-digit PANs, so a 13-digit run
 * counts only when it starts with 4, which keeps millisecond timestamps clear until late 2096.
 */
function isPanCandidate(digits: string): boolean {
  const first = digits.charCodeAt(0) - 48;
  const network = digits.length === MIN_PAN ? first === 4 : first >= 2 && first <= 6;
  return digits.length >= MIN_PAN && digits.length <= MAX_PAN && network && isLuhnValid(digits);
}

/**
 * True when `text` holds something that looks like a card number: 13–19 digits, written plain or in
 * groups separated by single spaces or dashes, passing Luhn, with a card network's first digit. A run
 * of groups may carry more around the number ("4242 4242 4242 4242 12 34"), so every span of whole
 * consecutive groups is tried.
 */
export function containsPan(text: string): boolean {
  for (const run of text.matchAll(DIGIT_RUN)) {
    const groups = run[0].match(DIGITS) ?? [];
    for (let i = 0; i < groups.length; i++) {
      let digits = '';
      for (let j = i; j < groups.length && digits.length < MAX_PAN; j++) {
        digits += groups[j];
        if (isPanCandidate(digits)) {
          return true;
        }
      }
    }
  }
  return false;
}

// Compared lowercased without `-` and `_`: `card_number`, `cardNumber` and `CARD-NUMBER` are one name.
const CARD_FIELD_NAMES = new Set(['card', 'cardnumber', 'cvc', 'cvv', 'cvc2', 'cvv2']);

/** True for a field name that only card data goes by (`card`, `card_number`, `cvc`, `cvv`). */
export function isCardFieldName(name: string): boolean {
  return CARD_FIELD_NAMES.has(name.toLowerCase().replace(/[-_]/g, ''));
}

function scalarText(value: unknown): string | null {
  if (typeof value === 'string') {
    return value;
  }
  // A PAN sent as a JSON number is still a PAN (16 digits fit a double exactly).
  if (typeof value === 'number' || typeof value === 'bigint') {
    return String(value);
  }
  return null;
}

// Paths share their prefixes (a linked list from the leaf up): copying an array per node would cost
// O(depth²) on a deeply nested body. Only a finding's path is ever materialized.
interface PathNode {
  readonly parent: PathNode | null;
  readonly segment: CardDataPathSegment;
}

function pathOf(node: PathNode | null): CardDataPathSegment[] {
  const path: CardDataPathSegment[] = [];
  for (let n = node; n !== null; n = n.parent) {
    path.push(n.segment);
  }
  return path.reverse();
}

/**
 * The first card data in `value` (parsed JSON, a parsed query string, a header map), depth first, or
 * null. Object keys are checked as well as values. The walk keeps its own stack, so a deeply nested
 * body cannot overflow the call stack.
 */
export function findCardData(value: unknown, options: FindCardDataOptions = {}): CardDataFinding | null {
  const stack: { value: unknown; path: PathNode | null }[] = [{ value, path: null }];
  const seen = new Set<object>();
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const key = item.path?.segment;
    if (typeof key === 'string') {
      if (options.cardFields === true && isCardFieldName(key)) {
        return { kind: 'card_field', path: pathOf(item.path) };
      }
      if (containsPan(key)) {
        return { kind: 'pan', path: pathOf(item.path) };
      }
    }
    const text = scalarText(item.value);
    if (text !== null) {
      if (containsPan(text)) {
        return { kind: 'pan', path: pathOf(item.path) };
      }
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null || seen.has(item.value)) {
      continue;
    }
    seen.add(item.value);
    const entries: [CardDataPathSegment, unknown][] = Array.isArray(item.value)
      ? item.value.map((child: unknown, i) => [i, child])
      : Object.entries(item.value);
    // Pushed in reverse so the first field is reported first.
    for (let k = entries.length - 1; k >= 0; k--) {
      const [segment, child] = entries[k] as [CardDataPathSegment, unknown];
      stack.push({ value: child, path: { parent: item.path, segment } });
    }
  }
  return null;
}
