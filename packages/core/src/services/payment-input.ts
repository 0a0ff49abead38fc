import type { Plan } from '../domain/entities.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { parseId, type AccountId } from '../ids.js';
import type { Repositories } from '../ports/repositories.js';
import type { CreatePaymentInput } from './payment-results.js';

/** A request to take a payment after every field was checked. */
export interface CheckedPaymentInput {
  readonly accountId: AccountId;
  readonly userId: string;
  readonly plan: Plan;
  readonly paymentMethodId: string;
  /** Normalised (`URL.href`); null when the caller gave none. */
  readonly returnUrl: string | null;
}

const MAX_USER_ID = 255;
const MAX_PAYMENT_METHOD_ID = 255;
const MAX_RETURN_URL = 2048;
const PAYMENT_METHOD_ID = /^pm_[A-Za-z0-9_]+$/;
// Whitespace and control characters: the URL parser silently drops some of them, which is how
// `https://ok.example\t@evil.example` style tricks get past a naive check.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_URL_CHARACTERS = /[\u0000-\u0020\u007f-\u009f\\]/;

function checkUserId(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_USER_ID) {
    throw new ValidationError(`The user_id must be 1 to ${MAX_USER_ID} characters.`, { param: 'user_id' });
  }
  return value;
}

function checkPaymentMethodId(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_PAYMENT_METHOD_ID || !PAYMENT_METHOD_ID.test(value)) {
    throw new ValidationError(
      'The payment_method_id must be a Stripe PaymentMethod id (pm_…); pay never takes card numbers.',
      { param: 'payment_method_id' },
    );
  }
  return value;
}

/**
 * The origin of an allowed-origins entry, as the URL parser spells it (lowercase host, punycode for
 * IDNs, no default port), or null for an entry that is not an http(s) origin.
 */
function originOf(entry: string): string | null {
  try {
    const url = new URL(entry);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * Checks a caller's `return_url` (where the card holder lands after 3-D Secure): an absolute http(s)
 * URL without user info whose origin is exactly one of `allowedOrigins` — so `http:` only where the
 * allowed origin is itself `http:`. Comparing parsed origins defeats `https://ok.example@evil.example`,
 * `javascript:` and `data:` (origin `null`), and IDN look-alikes (punycode never equals the ASCII
 * origin). No allowed origins → every return_url is refused. Returns the normalised URL.
 */
export function checkReturnUrl(value: unknown, allowedOrigins: readonly string[]): string {
  const refuse = (why: string) => new ValidationError(`The return_url ${why}.`, { param: 'return_url' });
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_URL) {
    throw refuse(`must be an absolute URL of at most ${MAX_RETURN_URL} characters`);
  }
  if (UNSAFE_URL_CHARACTERS.test(value)) {
    throw refuse('must not contain spaces, control characters or backslashes');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse('must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw refuse('must use https');
  }
  if (url.username !== '' || url.password !== '') {
    throw refuse('must not contain user info');
  }
  const allowed = allowedOrigins.map(originOf).filter((origin): origin is string => origin !== null);
  if (!allowed.includes(url.origin)) {
    throw refuse(
      allowed.length === 0
        ? 'cannot be used: no return URL origins are configured (PAY_RETURN_URL_ORIGINS)'
        : `must be on one of the allowed origins (${allowed.join(', ')})`,
    );
  }
  return url.href;
}

/**
 * Checks every field of a payment request before anything is written (validation failures are never
 * stored under the idempotency key): ValidationError or NotFoundError naming the field.
 */
export async function checkCreatePaymentInput(
  repos: Repositories,
  input: CreatePaymentInput,
  allowedOrigins: readonly string[],
): Promise<CheckedPaymentInput> {
  const userId = checkUserId(input.userId);
  const paymentMethodId = checkPaymentMethodId(input.paymentMethodId);
  const returnUrl = input.returnUrl === undefined ? null : checkReturnUrl(input.returnUrl, allowedOrigins);
  const planId = parseId('plan', typeof input.planId === 'string' ? input.planId : '', 'plan_id');
  const plan = await repos.plans.findById(input.accountId, planId);
  if (plan === null) {
    throw new NotFoundError(`No such plan: ${planId}.`, { param: 'plan_id' });
  }
  if (!plan.active) {
    throw new ValidationError(`The plan ${planId} is no longer offered.`, { param: 'plan_id' });
  }
  return { accountId: input.accountId, userId, plan, paymentMethodId, returnUrl };
}
