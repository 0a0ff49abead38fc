import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSettleOutcome } from '../faults/api-faults.js';
import { writeControlJson } from '../http/respond.js';
import type { LedgerKind, RequestFilter } from '../ledger.js';
import type { ThreeDSecurePage } from '../three-ds/routes.js';
import { decodeForm, FormDecodeError, type FormHash } from '../wire/form.js';
import { ControlError, type SandboxControl, type SandboxFault } from './control.js';

/** A JSON body (or, for curl users, a form body) of a control-plane POST. */
function parseBody(req: IncomingMessage, body: string): Record<string, unknown> {
  if (body.trim() === '') {
    return {};
  }
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/x-www-form-urlencoded')) {
    return { ...decodeForm(body) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ControlError(400, 'the body must be JSON');
  }
  if (parsed === null || typeof parsed !== 'object') {
    throw new ControlError(400, 'the body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function queryOf(query: string): FormHash {
  return decodeForm(query);
}

function str(q: FormHash, key: string): string | undefined {
  const v = q[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

const LEDGER_KINDS: readonly LedgerKind[] = [
  'customer',
  'payment_method',
  'payment_intent',
  'charge',
  'refund',
  'dispute',
];

/**
 * `/_sandbox/*`: JSON in and out, no authentication, never reached by the SDK (SANDBOX.md §6.2). Errors
 * are `{ "error": { "message", "type": "sandbox_error" } }` with 400, 404 or 409.
 */
export class ControlRoutes {
  constructor(
    private readonly control: SandboxControl,
    private readonly threeDS: ThreeDSecurePage,
  ) {}

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: string,
    body: string,
  ): Promise<void> {
    try {
      await this.dispatch(req, res, path, query, body);
    } catch (error) {
      if (error instanceof ControlError || error instanceof FormDecodeError) {
        const status = error instanceof ControlError ? error.status : 400;
        writeControlJson(res, status, { error: { message: error.message, type: 'sandbox_error' } });
        return;
      }
      throw error;
    }
  }

  private async dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: string,
    body: string,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const parts = path.split('/').slice(2); // ['', '_sandbox', …]
    const [head, id, action] = parts;
    const c = this.control;
    const ok = (value: unknown): void => writeControlJson(res, 200, value);
    const route = `${method} ${head ?? ''}${parts.length > 1 ? `/${parts.length}` : ''}`;
    switch (route) {
      case 'GET health':
        return ok({ ok: true });
      case 'POST reset':
        c.reset();
        return ok({ reset: true });
      case 'GET clock':
        return ok(c.clock());
      case 'POST clock': {
        const input = parseBody(req, body);
        if (input.advance_seconds !== undefined) {
          return ok(c.advance(Number(input.advance_seconds)));
        }
        if (typeof input.set === 'number' || typeof input.set === 'string') {
          return ok(c.setClock(input.set));
        }
        throw new ControlError(
          400,
          'POST /_sandbox/clock takes {"advance_seconds": n} or {"set": unix seconds | ISO time}',
        );
      }
      case 'GET 3ds/2':
      case 'POST 3ds/2':
        return this.threeDS.handle(method, res, id ?? '', query, body);
      case 'POST payment_intents/3': {
        if (action === 'authenticate') {
          const outcome = parseBody(req, body).outcome;
          if (outcome !== 'succeed' && outcome !== 'fail') {
            throw new ControlError(400, 'outcome must be "succeed" or "fail"');
          }
          return ok(c.authenticate(id ?? '', outcome));
        }
        if (action === 'settle') {
          const outcome = parseBody(req, body).outcome;
          if (outcome !== undefined && !isSettleOutcome(outcome)) {
            throw new ControlError(400, 'outcome must be "succeeded" or "failed", or absent');
          }
          return ok(c.settle(id ?? '', outcome));
        }
        break;
      }
      case 'POST refunds/3':
        if (action === 'settle') {
          return ok(c.settleRefund(id ?? ''));
        }
        break;
      case 'POST charges/3': {
        if (action !== 'dispute') {
          break;
        }
        const reason = parseBody(req, body).reason;
        return ok(c.dispute(id ?? '', typeof reason === 'string' ? reason : undefined));
      }
      case 'POST webhooks/2':
        if (id === 'flush') {
          return ok(await c.flush());
        }
        break;
      case 'GET webhooks/2':
        if (id === 'deliveries') {
          const q = queryOf(query);
          const event = str(q, 'event');
          const endpoint = str(q, 'endpoint');
          return ok({
            data: c.deliveries({
              ...(event === undefined ? {} : { event }),
              ...(endpoint === undefined ? {} : { endpoint }),
            }),
          });
        }
        break;
      case 'POST events/3': {
        if (action !== 'resend') {
          break;
        }
        const endpoint = parseBody(req, body).endpoint ?? str(queryOf(query), 'endpoint');
        return ok(await c.resend(id ?? '', typeof endpoint === 'string' ? endpoint : undefined));
      }
      case 'GET faults':
        return ok({ data: c.faults() });
      case 'POST faults': {
        const input = parseBody(req, body);
        const list = Array.isArray(input.faults) ? (input.faults as unknown[]) : [input];
        return ok({ data: list.map((fault) => c.addFault(fault as SandboxFault)) });
      }
      case 'DELETE faults':
        c.clearFaults();
        return ok({ cleared: true });
      case 'GET requests': {
        const q = queryOf(query);
        const filter: RequestFilter = {};
        const fields = [
          ['method', 'method'],
          ['path', 'path'],
          ['account', 'account'],
          ['idempotency_key', 'idempotencyKey'],
        ] as const;
        for (const [param, field] of fields) {
          const value = str(q, param);
          if (value !== undefined) {
            filter[field] = value;
          }
        }
        return ok({ data: c.requests(filter) });
      }
      case 'GET ledger': {
        const q = queryOf(query);
        const kind = str(q, 'kind');
        if (kind !== undefined && !(LEDGER_KINDS as readonly string[]).includes(kind)) {
          throw new ControlError(400, `kind must be one of ${LEDGER_KINDS.join(', ')}`);
        }
        const account = str(q, 'account');
        const objects = c.objects({
          ...(kind === undefined ? {} : { kind: kind as LedgerKind }),
          ...(account === undefined ? {} : { account }),
        });
        const counts: Record<string, number> = {};
        for (const o of objects) {
          counts[o.kind] = (counts[o.kind] ?? 0) + 1;
        }
        return ok({ counts, data: objects });
      }
      case 'GET accounts':
        return ok({ data: c.accounts() });
      default:
        break;
    }
    throw new ControlError(404, `Unrecognized sandbox URL (${method}: ${path})`);
  }
}
