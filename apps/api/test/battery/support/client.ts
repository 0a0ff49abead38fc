/*
 * A client of pay's API (`POST /api/v1/payments`, refunds) as an integrator writes one: it keeps the raw
 * answer (status, headers, body bytes) so replays can be compared byte for byte, and it retries with the
 * same key while pay says the answer is not final yet.
 */

/** The body the battery sends: a plan, a card, an end user. */
export interface PaymentBody {
  readonly user_id: string;
  readonly plan_id: string;
  readonly payment_method_id: string;
  readonly return_url?: string;
}

/** One HTTP answer, or the network error that replaced it (the process died mid-request). */
export type Answer =
  | {
      readonly kind: 'http';
      readonly status: number;
      readonly body: string;
      readonly replayed: boolean;
      readonly retryAfter: string | null;
      readonly code: string | null;
      /** pay's `Request-Id` for it: what its audit and event rows name as their cause. */
      readonly requestId: string | null;
    }
  | { readonly kind: 'network'; readonly error: string };

function errorCodeOf(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : null;
  } catch {
    return null;
  }
}

/** `POST /api/v1/payments` with `Idempotency-Key: key`. */
export function postPayment(
  baseUrl: string,
  apiKey: string,
  key: string,
  body: PaymentBody,
): Promise<Answer> {
  return postJson(baseUrl, '/api/v1/payments', apiKey, key, body);
}

/** A `POST` of `body` as JSON to `path` (`/api/v1/…`) with `Idempotency-Key: key`. */
export async function postJson(
  baseUrl: string,
  path: string,
  apiKey: string,
  key: string,
  body: unknown,
): Promise<Answer> {
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return {
      kind: 'http',
      status: res.status,
      body: text,
      replayed: res.headers.get('idempotent-replayed') === 'true',
      retryAfter: res.headers.get('retry-after'),
      code: errorCodeOf(text),
      requestId: res.headers.get('request-id'),
    };
  } catch (error) {
    return networkAnswer(error);
  }
}

/** A `GET` of `path` (`/api/v1/…`) with the API key. */
export async function getJson(baseUrl: string, path: string, apiKey: string): Promise<Answer> {
  try {
    const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
    const text = await res.text();
    return {
      kind: 'http',
      status: res.status,
      body: text,
      replayed: false,
      retryAfter: res.headers.get('retry-after'),
      code: errorCodeOf(text),
      requestId: res.headers.get('request-id'),
    };
  } catch (error) {
    return networkAnswer(error);
  }
}

function networkAnswer(error: unknown): Answer {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return { kind: 'network', error: `${error instanceof Error ? error.message : String(error)}${cause}` };
}

/** An answer a client must retry with the same key: pay is still working on it, is busy, or a dependency failed. */
export function isRetryable(answer: Answer): boolean {
  return answer.kind === 'network' || answer.status === 409 || answer.status === 429 || answer.status === 503;
}

/** An HTTP answer. */
export type HttpAnswer = Extract<Answer, { kind: 'http' }>;

/** The answer when it ends the request (the payment, 201 or 402, or a final refusal), else null. */
export function finalAnswer(answer: Answer): HttpAnswer | null {
  return answer.kind === 'http' && !isRetryable(answer) && answer.status < 500 ? answer : null;
}

/** A one-line account of an answer for the printed figures and failure messages. */
export function describeAnswer(answer: Answer): string {
  if (answer.kind === 'network') {
    return `network error (${answer.error})`;
  }
  const flags = [answer.replayed ? 'replayed' : null, answer.code].filter((f) => f !== null).join(', ');
  return `${answer.status}${flags === '' ? '' : ` (${flags})`}`;
}

/**
 * Retries with the same key until the answer is final, waiting `Retry-After` (capped) or 100 ms between
 * tries. The attempt limit is a hang guard; every answer is returned for the test to print.
 */
export async function retryUntilFinal(
  send: () => Promise<Answer>,
  maxAttempts = 200,
): Promise<{ final: HttpAnswer; answers: Answer[] }> {
  const answers: Answer[] = [];
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const answer = await send();
    answers.push(answer);
    const final = finalAnswer(answer);
    if (final !== null) {
      return { final, answers };
    }
    if (answer.kind === 'http' && answer.status >= 500 && answer.status !== 503) {
      throw new Error(`pay answered ${describeAnswer(answer)}: ${answer.body}`);
    }
    const retryAfter = answer.kind === 'http' ? Number(answer.retryAfter ?? '0') : 0;
    const waitMs = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 1_000) : 100;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  throw new Error(
    `no final answer after ${maxAttempts} attempts: ${answers.slice(-5).map(describeAnswer).join('; ')}`,
  );
}

/** `GET /api/v1/payments/:id/return`, as the card holder's browser after 3-D Secure (no redirect followed). */
export async function getReturn(baseUrl: string, paymentId: string): Promise<Answer> {
  try {
    const res = await fetch(`${baseUrl}/api/v1/payments/${paymentId}/return`, { redirect: 'manual' });
    const text = await res.text();
    return {
      kind: 'http',
      status: res.status,
      body: res.headers.get('location') ?? text,
      replayed: false,
      retryAfter: res.headers.get('retry-after'),
      code: errorCodeOf(text),
      requestId: res.headers.get('request-id'),
    };
  } catch (error) {
    return networkAnswer(error);
  }
}
