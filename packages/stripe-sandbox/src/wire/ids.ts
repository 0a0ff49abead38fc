import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// Ids are minted several times per request on the hot path; one randomFillSync per 4 KiB of ids is much
// cheaper than a randomBytes call per id. The 256 % 62 bias is irrelevant for test identifiers.
const pool = Buffer.allocUnsafe(4096);
let cursor = pool.length;

const ALPHABET_CODES = Buffer.from(ALPHABET, 'latin1');

/*
 * Ids are built as bytes and decoded once. Appending characters, or even `${prefix}_${random}`, leaves a
 * rope of string pieces in V8 for every id — and a long benchmark keeps millions of them.
 */
function random(prefix: string, length: number): string {
  if (cursor + length > pool.length) {
    randomFillSync(pool);
    cursor = 0;
  }
  const out = Buffer.allocUnsafe(prefix.length + length);
  out.write(prefix, 0, 'latin1');
  for (let i = 0; i < length; i += 1) {
    out[prefix.length + i] = ALPHABET_CODES[(pool[cursor + i] ?? 0) % 62] ?? 48;
  }
  cursor += length;
  return out.toString('latin1');
}

/** `length` random base62 characters. */
export function randomBase62(length: number): string {
  return random('', length);
}

/** Stripe's id shape for our subset (SANDBOX.md §3.9): `<prefix>_` then 24 base62 (14 for customers and requests). */
export function newId(prefix: string, length = 24): string {
  return random(`${prefix}_`, length);
}

/** `<prefix>` then `length` random base62 characters, as one flat string (client secrets). */
export function withRandomSuffix(prefix: string, length: number): string {
  return random(prefix, length);
}

/** `req_` + 14 base62, new for every HTTP request (SANDBOX.md §3.4). */
export function newRequestId(): string {
  return newId('req', 14);
}

/** A flat copy of an ASCII string built by concatenation, for strings the store keeps. */
export function flatAscii(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}
