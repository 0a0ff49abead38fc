/**
 * Compares two byte sequences in time that depends only on their lengths, never on where they first
 * differ: every byte of both is read, and the differences are OR-ed together instead of returning at
 * the first mismatch. Lengths are not secret (a SHA-256 hex digest is always 64 characters), so a length
 * mismatch is folded into the result rather than hidden.
 *
 * Pure JavaScript so that `@pay/core` stays free of I/O modules (no `node:crypto`). A JIT could in
 * principle still specialise the loop; for comparing digests of 238-bit random secrets that residual
 * risk is negligible, and the database lookup by hash dominates the timing anyway.
 */
export function constantTimeEqualBytes(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const length = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < length; i++) {
    // Past the end of the shorter input, compare with 0; the length difference already made diff ≠ 0.
    diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  }
  return diff === 0;
}

const encoder = new TextEncoder();

/** {@link constantTimeEqualBytes} over the UTF-8 bytes of two strings (API key hashes, signatures). */
export function constantTimeEqual(a: string, b: string): boolean {
  return constantTimeEqualBytes(encoder.encode(a), encoder.encode(b));
}
