import type { ServerResponse } from 'node:http';

/** Headers every API response carries (SANDBOX.md §3.4). */
export interface ResponseBase {
  requestId: string;
  /** The version the body was rendered for: the request's `Stripe-Version`, else the account default. */
  stripeVersion: string;
  /** Echo of the request's `Idempotency-Key`, when it had one. */
  idempotencyKey: string | null;
}

/** Writes a JSON body with Stripe's headers; `extra` adds `Idempotent-Replayed`, `Stripe-Should-Retry`, … */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: string,
  base: ResponseBase,
  extra: Readonly<Record<string, string>> = {},
): void {
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache, no-store',
    'Request-Id': base.requestId,
    'Stripe-Version': base.stripeVersion,
    ...extra,
  };
  if (base.idempotencyKey !== null) {
    headers['Idempotency-Key'] = base.idempotencyKey;
  }
  res.writeHead(status, headers);
  res.end(body);
}

/** A JSON answer of the control plane (no Stripe headers: the SDK never calls it). */
export function writeControlJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** The first value of a header that may arrive repeated. */
export function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) {
    return null;
  }
  return Array.isArray(value) ? (value[0] ?? null) : value;
}
