import { createHash } from 'node:crypto';

/**
 * JSON with hash keys sorted at every level, so that two requests differing only in parameter order get
 * the same idempotency fingerprint (SANDBOX.md §3.6: "key order ignored"). Array order is significant.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** sha256 over method, path and the canonical parameters: what "the same request" means for idempotency. */
export function requestFingerprint(method: string, path: string, params: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path} ${canonicalJson(params)}`)
    .digest('base64');
}
