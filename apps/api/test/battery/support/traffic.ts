import { newIdempotencyKey, type Battery } from './battery.js';
import { describeAnswer, finalAnswer, getReturn, postJson, type Answer, type HttpAnswer } from './client.js';
import { text, withSql } from './pay-sql.js';
import { createWebhookSender, payloadOf, type StripeEventJson } from './webhooks.js';

/*
 * Client traffic that outlives the API process under it (RELIABILITY.md C2, C5): payments (plain cards,
 * 3-D Secure cards whose holder comes back later, declines), admin refunds of earlier payments and
 * signed webhook deliveries, each request retried with its same idempotency key until pay gives a final
 * answer — through network errors while the process is dead or restarting. Every request is timed and
 * kept, so a test can say which were in flight at a kill or a SIGTERM and how each ended.
 */

/** The kinds of flow the traffic mixes. */
export const FLOW_KINDS = ['card', 'three_ds', 'decline', 'refund', 'webhook'] as const;
export type FlowKind = (typeof FLOW_KINDS)[number];

/** A retry loop that outlasts a restart and a lock timeout; a hang guard, not a timing figure. */
const REQUEST_GUARD_MS = 180_000;

/** Each amount an admin refunds: three fit the battery's plan (1 999), the fourth is refused (422). */
export const REFUND_AMOUNT = 600;

/** One HTTP attempt: when it started and ended (`performance.now()`), and what it got. */
export interface Attempt {
  readonly flow: number;
  readonly what: string;
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly answer: Answer;
}

/** What the traffic needs: the battery, an admin key for refunds, the API's one address across restarts. */
export interface TrafficWorld {
  readonly battery: Battery;
  readonly adminKey: string;
  readonly webhookSecret: string;
  /** `http://127.0.0.1:<port>`: every API process of the test listens there. */
  readonly baseUrl: string;
}

/** How one flow ended: its final answers in order, and how many tries each took. */
export interface FlowResult {
  readonly flow: number;
  readonly kind: FlowKind;
  /** `201 succeeded`, `402 failed`, `303`, `422 refund_exceeds_captured`, `200`, … one per step. */
  readonly outcomes: readonly string[];
  readonly attempts: number;
  readonly networkErrors: number;
  /** The payment the flow made (payments) or refunded (refunds). */
  readonly paymentId: string | null;
}

/** What a flow is given: where to send, what to refund or deliver, and its seeded choices. */
export interface FlowInput {
  readonly flow: number;
  readonly kind: FlowKind;
  /** For refunds: a payment an earlier flow made that succeeded. */
  readonly refundOf?: string;
  /** For webhooks: the event to deliver. */
  readonly event?: StripeEventJson;
  /** For 3-D Secure: whether the holder passes the challenge, and how long the return takes. */
  readonly challenge?: 'succeed' | 'fail';
  readonly returnAfterMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function outcomeOf(answer: HttpAnswer): string {
  let status: string | null = null;
  try {
    const parsed = JSON.parse(answer.body) as { status?: unknown };
    status = typeof parsed.status === 'string' ? parsed.status : null;
  } catch {
    // A redirect's Location, or text.
  }
  return [String(answer.status), status ?? answer.code].filter((s) => s !== null).join(' ');
}

function idOf(answer: HttpAnswer): string | null {
  try {
    const parsed = JSON.parse(answer.body) as { id?: unknown; payment_id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : null;
  } catch {
    return null;
  }
}

/** The traffic of one test: runs flows, records every attempt. */
export class Traffic {
  readonly attempts: Attempt[] = [];
  private readonly sender;

  constructor(private readonly world: TrafficWorld) {
    this.sender = createWebhookSender(world.baseUrl, 16);
  }

  close(): void {
    this.sender.close();
  }

  /**
   * Sends until the answer is final (anything but a network error, 409, 429 or 5xx), waiting
   * `Retry-After` (capped at 1 s) or 100 ms between tries. Throws past the hang guard.
   */
  private async untilFinal(
    flow: number,
    what: string,
    key: string,
    send: () => Promise<Answer>,
  ): Promise<{ final: HttpAnswer; tries: number; networkErrors: number }> {
    const deadline = performance.now() + REQUEST_GUARD_MS;
    let tries = 0;
    let networkErrors = 0;
    const seen: Answer[] = [];
    while (performance.now() < deadline) {
      const start = performance.now();
      const answer = await send();
      this.attempts.push({ flow, what, key, start, end: performance.now(), answer });
      tries++;
      seen.push(answer);
      networkErrors += answer.kind === 'network' ? 1 : 0;
      const final = finalAnswer(answer);
      if (final !== null) {
        return { final, tries, networkErrors };
      }
      if (answer.kind === 'http' && answer.status >= 500 && answer.status !== 503) {
        throw new Error(`flow ${flow} ${what}: pay answered ${describeAnswer(answer)}: ${answer.body}`);
      }
      const retryAfter = answer.kind === 'http' ? Number(answer.retryAfter ?? '0') : 0;
      await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 1_000) : 100);
    }
    throw new Error(
      `flow ${flow} ${what}: no final answer within ${REQUEST_GUARD_MS} ms: ` +
        seen.slice(-5).map(describeAnswer).join('; '),
    );
  }

  /** Runs one flow to its end. */
  async run(input: FlowInput): Promise<FlowResult> {
    const { battery, adminKey, baseUrl } = this.world;
    const outcomes: string[] = [];
    let attempts = 0;
    let networkErrors = 0;
    const step = async (what: string, key: string, send: () => Promise<Answer>): Promise<HttpAnswer> => {
      const got = await this.untilFinal(input.flow, what, key, send);
      attempts += got.tries;
      networkErrors += got.networkErrors;
      outcomes.push(outcomeOf(got.final));
      return got.final;
    };
    let paymentId: string | null = null;
    switch (input.kind) {
      case 'card':
      case 'decline': {
        const key = newIdempotencyKey(`traffic-${input.kind}`);
        const body = battery.body({
          payment_method_id:
            input.kind === 'card' ? 'pm_card_visa' : 'pm_card_chargeDeclinedInsufficientFunds',
        });
        paymentId = idOf(
          await step('create', key, () => postJson(baseUrl, '/api/v1/payments', battery.apiKey, key, body)),
        );
        break;
      }
      case 'three_ds': {
        const key = newIdempotencyKey('traffic-3ds');
        const body = battery.body({
          payment_method_id: 'pm_card_threeDSecure2Required',
          return_url: 'https://shop.example/done',
        });
        const created = await step('create', key, () =>
          postJson(baseUrl, '/api/v1/payments', battery.apiKey, key, body),
        );
        paymentId = idOf(created);
        if (created.status !== 201 || paymentId === null) {
          break;
        }
        await sleep(input.returnAfterMs ?? 0);
        const intentId = await intentOf(battery, paymentId);
        if (intentId !== null) {
          battery.sandbox.authenticate(intentId, input.challenge ?? 'succeed');
        }
        const id = paymentId;
        await step('return', `return-${id}`, () => getReturn(baseUrl, id));
        break;
      }
      case 'refund': {
        const key = newIdempotencyKey('traffic-refund');
        paymentId = input.refundOf ?? null;
        const body = { payment_id: paymentId, amount: REFUND_AMOUNT, reason: `traffic flow ${input.flow}` };
        await step('refund', key, () => postJson(baseUrl, '/api/v1/refunds', adminKey, key, body));
        break;
      }
      case 'webhook': {
        const event = input.event;
        if (event === undefined) {
          throw new Error(`flow ${input.flow}: a webhook flow needs an event`);
        }
        const payload = payloadOf(event);
        await step('webhook', event.id, async () => {
          const got = await this.sender.deliver(payload, this.world.webhookSecret);
          return got.status === null
            ? { kind: 'network', error: got.error ?? 'no answer' }
            : {
                kind: 'http',
                status: got.status,
                body: got.body,
                replayed: false,
                retryAfter: null,
                code: null,
                requestId: null,
              };
        });
        break;
      }
    }
    return { flow: input.flow, kind: input.kind, outcomes, attempts, networkErrors, paymentId };
  }
}

/** The PaymentIntent pay recorded for a payment (null before it has one). */
export function intentOf(battery: Battery, paymentId: string): Promise<string | null> {
  return withSql(battery.database.url, async (sql) => {
    const [row] = await sql.unsafe('SELECT stripe_payment_intent_id FROM pay.payments WHERE id = $1', [
      paymentId,
    ]);
    return row === undefined || row.stripe_payment_intent_id === null
      ? null
      : text(row.stripe_payment_intent_id, 'stripe_payment_intent_id');
  });
}

/** The final outcomes a flow of each kind may end in; anything else is a wrong answer. */
export const EXPECTED_OUTCOMES: Record<FlowKind, readonly (readonly string[])[]> = {
  card: [['201 succeeded']],
  decline: [['402 failed']],
  three_ds: [['201 requires_action', '303']],
  refund: [['201 succeeded'], ['422 refund_exceeds_captured']],
  webhook: [['200']],
};

/** The flows whose outcomes are not one of their kind's expected ones, described for a failure. */
export function unexpectedOutcomes(results: readonly FlowResult[]): string[] {
  return results
    .filter((r) => !EXPECTED_OUTCOMES[r.kind].some((e) => e.join(' → ') === r.outcomes.join(' → ')))
    .map((r) => `flow ${r.flow} (${r.kind}): ${r.outcomes.join(' → ')}`);
}
