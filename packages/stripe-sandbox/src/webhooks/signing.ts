import { createHmac, randomBytes } from 'node:crypto';

/*
 * Stripe's webhook signature (SANDBOX.md §5.2): HMAC-SHA256 keyed with the whole `whsec_…` string
 * (prefix included, as stripe-node's verifier does) over `${t}.${body}`, hex-encoded. The body must
 * be the exact bytes sent, so callers sign the string they are about to write and nothing else.
 */

/** The key of the fake `v0` signature Stripe adds to test-mode events; receivers must ignore it. */
const FAKE_V0_SECRET = 'whsec_sandbox_fake_v0';

function hmacHex(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
}

/**
 * The `Stripe-Signature` header value for `body` signed at unix time `t` (seconds): `t=…`, one
 * `v1=…` per secret (several during a secret rotation, as Stripe sends), then a fake `v0=…` like
 * Stripe's test mode, so receivers that accept any scheme are caught.
 */
export function stripeSignature(body: string, secrets: readonly string[], t: number, fakeV0 = true): string {
  const parts = [`t=${t}`, ...secrets.map((secret) => `v1=${hmacHex(secret, t, body)}`)];
  if (fakeV0) {
    parts.push(`v0=${hmacHex(FAKE_V0_SECRET, t, body)}`);
  }
  return parts.join(',');
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` random base62 characters (rejection sampling keeps the distribution uniform). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: bytes at or above it would favour the first characters.
      if (byte < 248 && out.length < length) {
        out += BASE62[byte % 62];
      }
    }
  }
  return out;
}

/** A new endpoint signing secret in Stripe's format: `whsec_` and 32 base62 characters. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBase62(32)}`;
}
