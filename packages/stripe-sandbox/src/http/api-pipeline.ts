import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyExpand, validateExpand } from '../api/expand.js';
import { API_ROUTES } from '../api/routes.js';
import { Router, type RouteSpec } from '../api/router.js';
import { apiKeyFromHeader } from '../auth.js';
import type { SandboxCore } from '../core.js';
import {
  ApiError,
  errorEnvelope,
  IdempotencyError,
  IdempotencyKeyInUseError,
  InvalidRequestError,
  type JsonObject,
  SandboxApiError,
  shouldRetryHeader,
  unrecognizedUrl,
} from '../errors.js';
import type { FaultTarget } from '../faults/api-faults.js';
import { MAX_IDEMPOTENCY_KEY_LENGTH, type IdempotencyDecision } from '../idempotency.js';
import { lockTimeoutError, rateLimitError } from '../rate-limit.js';
import type { Account } from '../store/account.js';
import { requestFingerprint } from '../wire/canonical.js';
import { decodeForm, FormDecodeError, type FormHash } from '../wire/form.js';
import { newRequestId } from '../wire/ids.js';
import { Params } from '../wire/params.js';
import type { Holds } from './holds.js';
import { headerValue, writeJson, type ResponseBase } from './respond.js';

const VERSION = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;

/** What the request log needs to know, filled in as the pipeline advances. */
interface Trace {
  account: Account | null;
  route: RouteSpec | null;
  params: FormHash | null;
  replayed: boolean;
  faults: string[];
}

type Execute = Extract<IdempotencyDecision, { kind: 'execute' }>;

/**
 * The `/v1` pipeline, in Stripe's order (SANDBOX.md §3.6): authentication, `error_before` faults, rate
 * limits, route lookup, decoding and validation — none of which stores anything — then the idempotency
 * layer, the in-flight hold (`delay`/`latency`), execution (where a confirmation may take `processing`),
 * `error_after`, storing, publishing events, and either the response or a dropped connection.
 */
export class ApiPipeline {
  private readonly router = new Router(API_ROUTES);
  /** Each route's allowed top-level parameters, `expand` included, computed once. */
  private readonly allowed = new Map<RouteSpec, readonly string[] | 'any'>(
    API_ROUTES.map((route) => [route, route.params === 'any' ? 'any' : [...route.params, 'expand']]),
  );

  constructor(
    private readonly core: SandboxCore,
    private readonly holds: Holds,
    private readonly logError: (message: string, error: unknown) => void,
  ) {}

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: string,
    body: string,
  ): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const base: ResponseBase = {
      requestId: newRequestId(),
      stripeVersion: headerValue(req.headers['stripe-version']) ?? this.core.accounts.defaultApiVersion,
      idempotencyKey: headerValue(req.headers['idempotency-key']),
    };
    const trace: Trace = { account: null, route: null, params: null, replayed: false, faults: [] };
    let status: number;
    try {
      status = await this.run(req, res, method, path, method === 'POST' ? body : query, base, trace);
    } catch (error) {
      status = this.fail(res, base, trace, error);
    }
    this.core.ledger.recordRequest({
      requestId: base.requestId,
      at: this.core.clock.now(),
      account: trace.account?.id ?? null,
      method,
      path,
      route: trace.route?.pattern ?? null,
      params: trace.params,
      idempotencyKey: base.idempotencyKey,
      stripeVersion: headerValue(req.headers['stripe-version']),
      contentType: headerValue(req.headers['content-type']),
      authScheme: req.headers.authorization?.split(' ', 1)[0] ?? null,
      status,
      replayed: trace.replayed,
      faults: trace.faults,
      durationMs: performance.now() - started,
    });
  }

  private requestLogUrl(requestId: string): string {
    return `https://dashboard.stripe.com/test/logs/${requestId}?t=${this.core.clock.nowSeconds()}`;
  }

  /** Renders an error raised before execution (never stored). */
  private fail(res: ServerResponse, base: ResponseBase, trace: Trace, error: unknown): number {
    if (res.headersSent || res.destroyed) {
      return 0;
    }
    const apiError = error instanceof SandboxApiError ? error : this.unexpected(base, error);
    const logUrl = trace.account === null ? null : this.requestLogUrl(base.requestId);
    const retry = shouldRetryHeader(apiError);
    writeJson(
      res,
      apiError.status,
      JSON.stringify(errorEnvelope(apiError, logUrl)),
      base,
      retry === undefined ? {} : { 'Stripe-Should-Retry': retry },
    );
    return apiError.status;
  }

  private unexpected(base: ResponseBase, error: unknown): ApiError {
    this.logError(`stripe-sandbox: unexpected error in ${base.requestId}`, error);
    return new ApiError('An unknown error occurred', 500, { shouldRetry: false });
  }

  private async run(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    encoded: string,
    base: ResponseBase,
    trace: Trace,
  ): Promise<number> {
    const core = this.core;
    const account = core.accounts.resolve(apiKeyFromHeader(req.headers.authorization));
    trace.account = account;
    if (headerValue(req.headers['stripe-version']) === null) {
      base.stripeVersion = account.apiVersion;
    } else if (!VERSION.test(base.stripeVersion)) {
      throw new InvalidRequestError(`Invalid Stripe API version: ${base.stripeVersion}`);
    }
    if (req.headers['stripe-account'] !== undefined || req.headers['stripe-context'] !== undefined) {
      throw new InvalidRequestError('The sandbox does not support Connect (Stripe-Account).');
    }
    const target: FaultTarget = { method, path, idempotencyKey: base.idempotencyKey, account: account.id };
    const before = core.faults.size === 0 ? undefined : core.faults.take('error_before', target);
    if (before !== undefined) {
      trace.faults.push('error_before');
      throw before.status === 429
        ? before.code === 'lock_timeout'
          ? lockTimeoutError()
          : rateLimitError()
        : new ApiError('An unknown error occurred', before.status);
    }
    const match = this.router.match(method, path);
    core.rateLimiter?.check(account.id, `${method} ${match.kind === 'found' ? match.route.pattern : path}`);
    if (match.kind === 'not_found') {
      throw unrecognizedUrl(method, path);
    }
    const route = match.route;
    trace.route = route;
    let params: FormHash;
    try {
      params = decodeForm(encoded);
    } catch (error) {
      throw error instanceof FormDecodeError
        ? new InvalidRequestError(error.message, error.param === undefined ? {} : { param: error.param })
        : error;
    }
    trace.params = params;
    const p = Params.of(params, this.allowed.get(route) ?? 'any');
    const expand = p.stringArray('expand') ?? [];
    validateExpand(route.result, expand);
    const execute = route.handle(p, match.path, core.settings);

    let claim: Execute | null = null;
    const key = base.idempotencyKey;
    if (method === 'POST' && key !== null) {
      if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
        throw new InvalidRequestError(
          `Invalid idempotency key: keys must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
        );
      }
      const decision = account.idempotency.begin(key, path, requestFingerprint(method, path, params));
      switch (decision.kind) {
        case 'execute':
          claim = decision;
          break;
        case 'replay': {
          trace.replayed = true;
          const r = decision.response;
          base.stripeVersion = r.stripeVersion;
          writeJson(res, r.status, JSON.stringify(r.body), base, {
            'Idempotent-Replayed': 'true',
            'Original-Request': r.requestId,
            ...(r.status >= 500 ? { 'Stripe-Should-Retry': 'false' } : {}),
          });
          return r.status;
        }
        case 'in_flight':
          throw new IdempotencyKeyInUseError(
            `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
            { code: 'idempotency_key_in_use', shouldRetry: true },
          );
        case 'endpoint_mismatch':
          throw new IdempotencyError(
            `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${path}' vs '${decision.originalPath}'). Try using a key other than '${key}' if you meant to execute a different request.`,
            { shouldRetry: false },
          );
        case 'params_mismatch':
          throw new IdempotencyError(
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            { shouldRetry: false },
          );
        default: {
          const unknown: never = decision;
          throw new Error(`unknown idempotency decision ${JSON.stringify(unknown)}`);
        }
      }
    }

    if (!(await this.hold(req, route, match.path, target, account, trace, claim))) {
      return 0;
    }

    // Execution and storing happen in one synchronous step: never "executed but not stored".
    const ctx = core.context(account, base.requestId, key, target);
    let status: number;
    let body: JsonObject;
    const extra: Record<string, string> = {};
    try {
      const result = execute(ctx);
      status = result.status ?? 200;
      body = applyExpand(account, result.body, route.result, expand);
    } catch (error) {
      const apiError = error instanceof SandboxApiError ? error : this.unexpected(base, error);
      status = apiError.status;
      body = errorEnvelope(apiError, this.requestLogUrl(base.requestId));
      const retry = shouldRetryHeader(apiError);
      if (retry !== undefined) {
        extra['Stripe-Should-Retry'] = retry;
      }
    }
    trace.faults.push(...ctx.faultsTaken);
    if (core.faults.size > 0 && core.faults.take('error_after', target) !== undefined) {
      trace.faults.push('error_after');
      status = 500;
      const error = new ApiError('An unknown error occurred', 500);
      body = errorEnvelope(error, this.requestLogUrl(base.requestId));
      extra['Stripe-Should-Retry'] = 'false';
    }
    // The stored body is the (immutable) object graph, not its text: a replay serialises the same graph to the
    // same bytes, and the graph is mostly shared with the store and the events, so a key costs a pointer.
    claim?.commit({ status, body, stripeVersion: base.stripeVersion, requestId: base.requestId });
    ctx.publish();
    if (core.faults.size > 0 && core.faults.take('drop_after_commit', target) !== undefined) {
      trace.faults.push('drop_after_commit');
      req.socket.destroy();
      return status;
    }
    writeJson(res, status, JSON.stringify(body), base, extra);
    return status;
  }

  /**
   * Holds the request in flight (key claimed) for a `delay` or `latency` fault. Under rate limits, a POST
   * that mutates an object another held request is mutating gets Stripe's 429 `lock_timeout`. Returns
   * false when the sandbox stopped meanwhile (the claim is released and the socket closed).
   */
  private async hold(
    req: IncomingMessage,
    route: RouteSpec,
    path: Readonly<Record<string, string>>,
    target: FaultTarget,
    account: Account,
    trace: Trace,
    claim: Execute | null,
  ): Promise<boolean> {
    const core = this.core;
    const objectId = route.lock === undefined ? undefined : path[route.lock];
    const lockKey = core.rateLimiter !== null && objectId !== undefined ? `${account.id}:${objectId}` : null;
    if (lockKey !== null && core.locks.has(lockKey)) {
      claim?.abandon();
      throw lockTimeoutError();
    }
    const hold = core.faults.size === 0 ? undefined : core.faults.takeHold(target);
    if (hold === undefined) {
      return true;
    }
    trace.faults.push(hold.kind);
    if (lockKey !== null) {
      core.locks.add(lockKey);
    }
    let alive: boolean;
    try {
      alive = await this.holds.wait(hold.ms);
    } finally {
      if (lockKey !== null) {
        core.locks.delete(lockKey);
      }
    }
    if (!alive) {
      claim?.abandon();
      req.socket.destroy();
    }
    return alive;
  }
}
