import Stripe from 'stripe';

/** Why a webhook delivery was refused. */
export type WebhookRejectionReason =
  /** No `Stripe-Signature` header, or an empty one. */
  | 'missing_header'
  /** The header has no integer `t=` or no `v1=` signature. */
  | 'malformed_header'
  /** Signed longer ago than the tolerance: possibly a replay. */
  | 'timestamp_too_old'
  /** Signed further in the future than the tolerance: a clock this far off, or a forgery. */
  | 'timestamp_in_future'
  /** No `v1` signature matches the body under any of the secrets. */
  | 'signature_mismatch'
  /** Correctly signed, but the body is not a Stripe event (not JSON, no `id` or `type`). */
  | 'invalid_payload';

/**
 * The result of {@link verifyStripeWebhook}: a bad signature is an outcome the webhook route answers with
 * 400, not an exception (STYLE.md R5).
 */
export type WebhookVerification =
  | {
      readonly kind: 'verified';
      readonly event: Stripe.Event;
      /** Which of the given secrets signed it (rotation: tells when the old one can go). */
      readonly secretIndex: number;
      /** The signature's `t`. */
      readonly signedAt: Date;
    }
  | { readonly kind: 'rejected'; readonly reason: WebhookRejectionReason; readonly message: string };

export interface VerifyWebhookOptions {
  /** How far the signature's time may be from now, either way, in seconds (Stripe's 300 by default). */
  readonly toleranceSeconds?: number;
  /** Now, for tests; the system clock by default. */
  readonly now?: Date;
}

const DEFAULT_TOLERANCE_SECONDS = 300;

function rejected(reason: WebhookRejectionReason, message: string): WebhookVerification {
  return { kind: 'rejected', reason, message };
}

/** `t` of a `Stripe-Signature` header, when it has one and at least one `v1`, as the SDK parses it. */
function signedAtSeconds(header: string): number | null {
  let t: number | null = null;
  let signatures = 0;
  for (const item of header.split(',')) {
    const [key, value] = item.split('=');
    if (key === 't' && value !== undefined && /^\d+$/.test(value)) {
      t = Number(value);
    } else if (key === 'v1' && value !== undefined && value !== '') {
      signatures += 1;
    }
  }
  return signatures > 0 ? t : null;
}

/**
 * Verifies a webhook delivery the way DESIGN.md §5 asks: HMAC-SHA256 over the raw body (Stripe's own
 * `constructEvent`, constant-time), any of `secrets` (several during a rotation), and a timestamp within
 * `toleranceSeconds` of now in both directions — Stripe's SDK refuses only old ones; a future-dated
 * signature is refused here too, so a leaked signing moment cannot be banked for later.
 *
 * `rawBody` must be the bytes as received: a re-serialised JSON body no longer matches its signature.
 */
export function verifyStripeWebhook(
  rawBody: Buffer | string,
  header: string | undefined,
  secrets: readonly string[],
  options: VerifyWebhookOptions = {},
): WebhookVerification {
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isInteger(tolerance) || tolerance <= 0) {
    // 0 would switch the SDK's age check off (stripe ≥ 23): never what a caller means.
    throw new RangeError(`toleranceSeconds must be a positive integer, got ${tolerance}`);
  }
  if (secrets.every((secret) => secret.trim() === '')) {
    throw new RangeError('verifyStripeWebhook needs at least one signing secret');
  }
  if (header === undefined || header.trim() === '') {
    return rejected('missing_header', 'The request has no Stripe-Signature header.');
  }
  const t = signedAtSeconds(header);
  if (t === null) {
    return rejected('malformed_header', 'The Stripe-Signature header has no timestamp or no v1 signature.');
  }
  const nowMs = (options.now ?? new Date()).getTime();
  // The SDK's own formula, so the two checks agree to the second.
  const age = Math.floor(nowMs / 1000) - t;
  if (age > tolerance) {
    return rejected(
      'timestamp_too_old',
      `The signature is ${age} s old; at most ${tolerance} s is accepted.`,
    );
  }
  if (-age > tolerance) {
    return rejected(
      'timestamp_in_future',
      `The signature is dated ${-age} s ahead; at most ${tolerance} s is accepted.`,
    );
  }
  for (const [secretIndex, secret] of secrets.entries()) {
    if (secret.trim() === '') {
      continue;
    }
    let event: Stripe.Event;
    try {
      event = Stripe.webhooks.constructEvent(rawBody, header, secret, tolerance, undefined, nowMs);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
        continue;
      }
      // The signature matched (constructEvent parses only after verifying): the body is not JSON.
      return rejected('invalid_payload', 'The signed body is not JSON.');
    }
    if (!isEventShaped(event)) {
      return rejected('invalid_payload', 'The signed body is not a Stripe event.');
    }
    return { kind: 'verified', event, secretIndex, signedAt: new Date(t * 1000) };
  }
  return rejected('signature_mismatch', 'No signature matches the body under the configured secrets.');
}

function isEventShaped(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const { id, type, object } = value as { id?: unknown; type?: unknown; object?: unknown };
  return typeof id === 'string' && typeof type === 'string' && object === 'event';
}
