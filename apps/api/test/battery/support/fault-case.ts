import { readPayState, type Sandbox } from '@pay/reliability';
import { newIdempotencyKey, type Battery } from './battery.js';
import { describeAnswer, finalAnswer, type Answer, type HttpAnswer, type PaymentBody } from './client.js';
import { figure, tally } from './figures.js';
import type { ApiProcess } from './processes.js';

/*
 * One gateway-fault case (RELIABILITY.md B): arm sandbox faults, send one payment request, clear the
 * faults, retry with the same key as a client would, and report what pay sent to Stripe meanwhile.
 */

/** A fault the sandbox takes (`sandbox.faults.add`). */
export type SandboxFault = Parameters<Sandbox['faults']['add']>[0];
/** One call the sandbox logged. */
export type RequestLogEntry = ReturnType<Sandbox['requests']>[number];

export const CREATE_INTENT = { method: 'POST', path: '/v1/payment_intents' } as const;
export const CONFIRM_INTENT = { method: 'POST', path: '/v1/payment_intents/*/confirm' } as const;
const CONFIRM_ROUTE = '/v1/payment_intents/:intent/confirm';

/** What one case saw: every answer the client got, and every call pay made to Stripe for it. */
export interface FaultCaseResult {
  readonly key: string;
  readonly body: PaymentBody;
  readonly first: Answer;
  readonly answers: readonly Answer[];
  /** The final answer, when the client got one within its retries. */
  readonly final: HttpAnswer | null;
  /** pay's calls to Stripe while the faults were armed (the first request only). */
  readonly duringFault: readonly RequestLogEntry[];
  /** pay's calls to Stripe for the whole case. */
  readonly requests: readonly RequestLogEntry[];
  readonly creates: readonly RequestLogEntry[];
  readonly confirms: readonly RequestLogEntry[];
  /** The payment the case made (from the database), or null when none was recorded. */
  readonly paymentId: string | null;
}

function isCreate(r: RequestLogEntry): boolean {
  return r.method === 'POST' && r.path === CREATE_INTENT.path;
}

function isConfirm(r: RequestLogEntry): boolean {
  return r.method === 'POST' && r.route === CONFIRM_ROUTE;
}

/**
 * Runs one case: `faults` armed for the first request only, then up to `retries` client retries with the
 * same key (100 ms apart) until a final answer. Prints the figures; asserts nothing.
 */
export async function runFaultCase(
  battery: Battery,
  api: ApiProcess,
  label: string,
  faults: readonly SandboxFault[],
  retries = 10,
): Promise<FaultCaseResult> {
  const key = newIdempotencyKey(label);
  const body = battery.body();
  const { sandbox } = battery;
  const start = sandbox.requests().length;
  const paymentsBefore = new Set((await readPayState(battery.database.url)).payments.map((p) => p.id));
  for (const fault of faults) {
    sandbox.faults.add(fault);
  }
  let first: Answer;
  try {
    first = await battery.post(api, key, body);
  } finally {
    sandbox.faults.clear();
  }
  const duringFault = sandbox.requests().slice(start);
  const answers: Answer[] = [first];
  let final = finalAnswer(first);
  for (let i = 0; i < retries && final === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const answer = await battery.post(api, key, body);
    answers.push(answer);
    final = finalAnswer(answer);
  }
  const requests = sandbox.requests().slice(start);
  const after = await readPayState(battery.database.url);
  const created = after.payments.filter((p) => !paymentsBefore.has(p.id));
  const result: FaultCaseResult = {
    key,
    body,
    first,
    answers,
    final,
    duringFault,
    requests,
    creates: requests.filter(isCreate),
    confirms: requests.filter(isConfirm),
    paymentId: created[0]?.id ?? null,
  };
  printFaultCase(label, result);
  return result;
}

/** The figures of a case: answers, and pay's Stripe calls with their status and fault. */
export function printFaultCase(label: string, r: FaultCaseResult): void {
  const calls = (list: readonly RequestLogEntry[]) =>
    tally(
      list.map(
        (q) =>
          `${q.route ?? q.path} ${q.status}${q.replayed ? ' replayed' : ''}${q.faults.length > 0 ? ` [${q.faults.join(',')}]` : ''}`,
      ),
    );
  figure(label, `client answers: ${r.answers.map(describeAnswer).join(' → ')}`);
  figure(label, `Stripe calls while faulted: ${calls(r.duringFault)}`);
  figure(label, `Stripe calls in all: ${calls(r.requests)}`);
}

/** The distinct Stripe idempotency keys among `requests`: one means no request went out under a new key. */
export function stripeKeysOf(requests: readonly RequestLogEntry[]): string[] {
  return [...new Set(requests.map((r) => r.idempotencyKey ?? '(none)'))];
}
