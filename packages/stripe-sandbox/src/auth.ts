import { createHash } from 'node:crypto';
import { AuthenticationError } from './errors.js';

const NO_KEY =
  "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

/** Test-mode secret and restricted keys (SANDBOX.md §3.2): `sk_test_…` / `rk_test_…` with a non-empty tail. */
const TEST_KEY = /^(sk|rk)_test_\S+$/;

/** `sk_test_abc*****wxyz`: the first 11 characters, stars for the middle, the last 4 (as Stripe masks). */
export function maskKey(key: string): string {
  if (key.length <= 15) {
    return `${'*'.repeat(Math.max(0, key.length - 4))}${key.slice(-4)}`;
  }
  return `${key.slice(0, 11)}${'*'.repeat(key.length - 15)}${key.slice(-4)}`;
}

/** Whether a key has the shape of a test-mode secret key. */
export function isTestKey(key: string): boolean {
  return TEST_KEY.test(key);
}

/** The account of a key when every key is its own account: stable across restarts. */
export function accountIdForKey(key: string): string {
  return `acct_${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/**
 * Extracts the API key from `Authorization: Bearer <key>` or `Basic base64(<key>:)`. Throws Stripe's 401
 * when the header is missing; returns the key as sent otherwise (validity is the caller's question).
 */
export function apiKeyFromHeader(header: string | undefined): string {
  if (header === undefined || header.trim() === '') {
    throw new AuthenticationError(NO_KEY);
  }
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  const value = space === -1 ? '' : header.slice(space + 1).trim();
  if (scheme.toLowerCase() === 'bearer') {
    return value;
  }
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? decoded : decoded.slice(0, colon);
  }
  throw new AuthenticationError(NO_KEY);
}

/** Stripe's 401 for a key it does not know. */
export function invalidKeyError(key: string): AuthenticationError {
  return new AuthenticationError(`Invalid API Key provided: ${maskKey(key)}`);
}
