import { isLuhnValid } from '@pay/core';

/** What every redacted value becomes. */
export const REDACTED = '[REDACTED]';

/*
 * Keys are compared lowercased with `-` and `_` removed, so `api_key`, `apiKey` and `API-KEY` are one
 * key. `card` and `number` go whole: a card object may hold a PAN, and `number` is what Stripe calls it.
 */
const SECRET_KEYS = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'apikey',
  'xapikey',
  'stripesignature',
  'card',
  'cardnumber',
  'number',
  'pan',
  'cvc',
  'cvv',
  'cvc2',
  'cvv2',
  'databaseurl',
]);
const SECRET_KEY_PARTS = ['secret', 'password', 'passwd'];

/** True for a field name whose value is always secret (`authorization`, `client_secret`, `cvc`…). */
export function isSecretKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[-_]/g, '');
  return (
    SECRET_KEYS.has(normalized) ||
    normalized.endsWith('token') ||
    SECRET_KEY_PARTS.some((part) => normalized.includes(part))
  );
}

const SECRET_VALUE_PATTERNS: readonly RegExp[] = [
  /\b(?:sk|rk)_(?:test|live)_[0-9A-Za-z]+/g, // Stripe secret and restricted keys
  /\brk_[0-9A-Za-z_]{6,}/g, // restricted keys in any other spelling
  /\bwhsec_[0-9A-Za-z+/=_-]+/g, // webhook signing secrets
  /\bpsk_[0-9A-Za-z_-]+/g, // pay's own API keys
];
// `scheme://user:password@host`: keep the user (it helps an operator), hide the password.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/?#\s]+)(@)/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
// Runs of digits with single spaces or dashes between groups ("4242 4242 4242 4242").
const DIGIT_RUN = /\d+(?:[ -]\d+)*/g;

/**
 * Replaces each card number in a run of digit groups. A PAN is 13–19 digits that pass Luhn, written
 * plain or in groups; the run may carry more groups around it ("4242 4242 4242 4242 12/34"), so every
 * span of whole consecutive groups is tried, longest first.
 */
function redactPansInRun(run: string): string {
  const groups = [...run.matchAll(/\d+/g)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
  const spans: { start: number; end: number }[] = [];
  let i = 0;
  while (i < groups.length) {
    let found = false;
    for (let j = groups.length - 1; j >= i; j--) {
      const first = groups[i];
      const last = groups[j];
      if (first === undefined || last === undefined) {
        continue;
      }
      const digits = run.slice(first.start, last.end).replace(/\D/g, '');
      if (digits.length >= 13 && digits.length <= 19 && isLuhnValid(digits)) {
        spans.push({ start: first.start, end: last.end });
        i = j + 1;
        found = true;
        break;
      }
    }
    if (!found) {
      i++;
    }
  }
  let out = run;
  for (const span of spans.reverse()) {
    out = out.slice(0, span.start) + REDACTED + out.slice(span.end);
  }
  return out;
}

/** Removes secrets and card numbers from free text (messages, error messages, stacks, URLs). */
export function redactString(text: string): string {
  let out = text;
  for (const pattern of SECRET_VALUE_PATTERNS) {
    out = out.replace(pattern, REDACTED);
  }
  out = out.replace(URL_PASSWORD, `$1${REDACTED}$3`);
  out = out.replace(BEARER, `$1 ${REDACTED}`);
  return out.replace(DIGIT_RUN, (run) => (run.length >= 13 ? redactPansInRun(run) : run));
}

function redactNumber(value: number): number | string {
  if (Number.isInteger(value) && value > 0) {
    const digits = String(value);
    if (digits.length >= 13 && digits.length <= 19 && isLuhnValid(digits)) {
      return REDACTED;
    }
  }
  return value;
}

/**
 * A redacted deep copy of `value`: secret keys' values replaced, strings scrubbed, Errors turned into
 * plain objects (their `message` and `stack` are not enumerable, so JSON would print `{}`), cycles cut.
 * The input is never mutated: it may be the caller's live object.
 */
export function redactValue(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') {
    return redactString(value);
  }
  if (typeof value === 'number') {
    return redactNumber(value);
  }
  if (typeof value === 'bigint') {
    return redactString(value.toString());
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  if (seen.has(value)) {
    return '[Circular]';
  }
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      return value.map((item) => redactValue(item, seen));
    }
    if (value instanceof Date) {
      return value;
    }
    if (Buffer.isBuffer(value)) {
      return `[Buffer ${value.length} bytes]`;
    }
    const source = value instanceof Error ? errorFields(value) : (value as Record<string, unknown>);
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(source)) {
      out[key] =
        isSecretKey(key) && field !== undefined && field !== null ? REDACTED : redactValue(field, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function errorFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { ...error, name: error.name, message: error.message };
  if (error.stack !== undefined) {
    fields.stack = error.stack;
  }
  if (error.cause !== undefined) {
    fields.cause = error.cause;
  }
  return fields;
}
