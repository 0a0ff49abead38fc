import { InternalError, type PayErrorCode } from '@pay/core';
import type { Response, Router } from 'express';
import type { z } from 'zod';
import type { ErrorBody } from '../errors/error-body.js';
import { STATUS } from '../errors/error-status.js';
import { validate, validated, type InputSchemas, type ValidatedInput } from '../middleware/validate.js';

/** The HTTP methods a route may answer. */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** `T` with every property and array read-only, so a handler may return read-only values it built. */
export type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** A header a request or an answer carries, as the OpenAPI document describes it. */
export interface HeaderSpec {
  readonly description: string;
  readonly schema: z.ZodType;
  /** True when it is always there (a redirect's `Location`); false when only sometimes. */
  readonly required: boolean;
}

/**
 * One answer a route gives: its status, what it means, its body and the headers worth documenting. A
 * JSON body has a `schema`; a small page has `mediaType: 'text/html'` instead; a redirect has neither.
 */
export interface ResponseSpec<R extends z.ZodType = z.ZodType> {
  readonly status: number;
  readonly description: string;
  readonly schema?: R;
  readonly mediaType?: 'text/html';
  readonly headers?: Readonly<Record<string, HeaderSpec>>;
}

/** The usual answer of a route: what its handler returns is sent as this JSON body, with this status. */
export interface SuccessResponse<R extends z.ZodType> extends ResponseSpec<R> {
  readonly schema: R;
}

/**
 * Everything about one route that both Express and the OpenAPI document need, declared once. Express
 * mounts `validate(request)` from it and sends what the handler returns with `response.status` (or the
 * declared answer a {@link RouteReply} picks); the document describes the very same schemas and
 * statuses, so the two cannot drift apart.
 */
export interface RouteSpec<S extends InputSchemas = InputSchemas, R extends z.ZodType = z.ZodType> {
  readonly method: HttpMethod;
  /** The Express path, relative to the router the route is mounted on (`/plans/:id`). */
  readonly path: string;
  /** Unique across the API: the name generated clients give the operation. */
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  /**
   * `bearer`: an API key is required. `none`: the route takes no key; under `/api/v1` it must also be
   * listed in UNAUTHENTICATED_ROUTES (a test checks that the two agree).
   */
  readonly auth: 'bearer' | 'none';
  readonly request: S;
  /**
   * A body the handler reads as raw bytes (`req.body`, a Buffer) instead of validated JSON: the Stripe
   * webhook, whose signature covers the exact bytes. The app must mount a raw parser for the route's
   * path; `schema` only documents what the bytes hold.
   */
  readonly rawBody?: { readonly description: string; readonly schema: z.ZodType };
  /**
   * Request headers the handler reads itself (validate() checks only params, query and body), for the
   * document: `Idempotency-Key`.
   */
  readonly requestHeaders?: Readonly<Record<string, HeaderSpec>>;
  /** The usual answer. A route whose handler always picks its answer (see {@link RouteReply}) leaves it out. */
  readonly response?: SuccessResponse<R>;
  /**
   * The other answers the handler may pick by returning a {@link RouteReply}: a 402 beside a 201, a 303
   * redirect. Error statuses come from `errors` instead.
   */
  readonly replies?: readonly ResponseSpec[];
  /**
   * The error codes the handler's service may raise. Those the mounting itself implies (see
   * {@link impliedErrors}) are added, so a route lists only its own.
   */
  readonly errors: readonly PayErrorCode[];
}

/** What a route's handler returns: the success body, typed from the response schema. */
export type ResponseBody<R extends z.ZodType> = DeepReadonly<z.output<R>>;

// A JSON body never has symbol keys, so this brand tells a reply from a body that merely looks like one.
const ROUTE_REPLY = Symbol('RouteReply');

/** The body of a {@link RouteReply}: JSON, a small HTML page, or nothing (a redirect). */
export type ReplyBody =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'html'; readonly text: string }
  | { readonly kind: 'empty' };

/**
 * An answer the handler picked: its status, headers and body. Build one with {@link jsonReply},
 * {@link htmlReply}, {@link redirectReply} or {@link errorReply}; the status must be one the route
 * declares (`response`, `replies` or the statuses of its errors), or the request fails with a 500.
 */
export interface RouteReply {
  readonly [ROUTE_REPLY]: true;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ReplyBody;
}

function routeReply(status: number, body: ReplyBody, headers: Readonly<Record<string, string>>): RouteReply {
  return { [ROUTE_REPLY]: true, status, headers, body };
}

/** Answers with `response`'s status and a JSON body typed from its schema. */
export function jsonReply<R extends z.ZodType>(
  response: SuccessResponse<R>,
  body: ResponseBody<R>,
  headers: Readonly<Record<string, string>> = {},
): RouteReply {
  return routeReply(response.status, { kind: 'json', value: body }, headers);
}

/** Answers with `response`'s status and an HTML page. */
export function htmlReply(
  response: ResponseSpec & { readonly mediaType: 'text/html' },
  html: string,
  headers: Readonly<Record<string, string>> = {},
): RouteReply {
  return routeReply(response.status, { kind: 'html', text: html }, headers);
}

/** Answers with `response`'s (3xx) status, no body, and `Location: location`. */
export function redirectReply(
  response: ResponseSpec,
  location: string,
  headers: Readonly<Record<string, string>> = {},
): RouteReply {
  return routeReply(response.status, { kind: 'empty' }, { ...headers, Location: location });
}

/**
 * Answers with an error body built earlier (a stored answer replayed byte for byte), where throwing
 * would render a new one with this request's id.
 */
export function errorReply(
  status: number,
  body: ErrorBody,
  headers: Readonly<Record<string, string>> = {},
): RouteReply {
  return routeReply(status, { kind: 'json', value: body }, headers);
}

function isRouteReply(value: unknown): value is RouteReply {
  return typeof value === 'object' && value !== null && ROUTE_REPLY in value;
}

/**
 * A route's handler: parses nothing itself (validate() did), calls one service and shapes the result,
 * which is sent as the response body, or returns a {@link RouteReply} to pick another declared answer.
 * Errors are thrown to the one error middleware.
 */
export type RouteHandler<S extends InputSchemas, R extends z.ZodType, D> = (
  input: ValidatedInput<S>,
  res: Response,
  deps: D,
) => Promise<ResponseBody<R> | RouteReply> | ResponseBody<R> | RouteReply;

/** A declared route: its spec (for the document) and how to mount it (for Express). */
export interface RouteDefinition<D> {
  readonly spec: RouteSpec;
  /** Mounts the route on `router`, whose mount path is the route group's prefix. */
  mount(router: Router, deps: D): void;
}

/** Every status `spec` documents: its answers' and its errors'. A reply with another is a bug. */
function declaredStatuses(spec: RouteSpec): ReadonlySet<number> {
  return new Set([
    ...(spec.response === undefined ? [] : [spec.response.status]),
    ...(spec.replies ?? []).map((reply) => reply.status),
    ...[...impliedErrors(spec), ...spec.errors].map((code) => STATUS[code]),
  ]);
}

function send(res: Response, spec: RouteSpec, statuses: ReadonlySet<number>, result: unknown): void {
  if (!isRouteReply(result)) {
    if (spec.response === undefined) {
      throw new InternalError(`${spec.operationId} returned a body but declares no usual response`);
    }
    res.status(spec.response.status).json(result);
    return;
  }
  if (!statuses.has(result.status)) {
    throw new InternalError(`${spec.operationId} replied ${result.status}, which it does not declare`);
  }
  res.status(result.status).set(result.headers);
  const { body } = result;
  if (body.kind === 'json') {
    res.json(body.value);
  } else if (body.kind === 'html') {
    res.type('html').send(body.text);
  } else {
    res.end();
  }
}

/** Declares a route once; see {@link RouteSpec}. */
export function defineRoute<const S extends InputSchemas, R extends z.ZodType = z.ZodNever, D = unknown>(
  spec: RouteSpec<S, R>,
  handler: RouteHandler<S, R, D>,
): RouteDefinition<D> {
  if (spec.response === undefined && (spec.replies ?? []).length === 0) {
    throw new InternalError(`${spec.operationId} declares no answer: give it a response or replies`);
  }
  const input = validate(spec.request);
  const statuses = declaredStatuses(spec);
  return {
    spec,
    mount(router, deps) {
      router[spec.method](spec.path, input, async (_req, res) => {
        const result = await handler(validated(res, input), res, deps);
        send(res, spec, statuses, result);
      });
    },
  };
}

/** Mounts every route of a group on `router`, in order. */
export function mountRoutes<D>(router: Router, routes: readonly RouteDefinition<D>[], deps: D): void {
  for (const route of routes) {
    route.mount(router, deps);
  }
}

/**
 * The error codes a route can return whatever its handler does: `invalid_request` when it validates
 * input, `payload_too_large` when it takes a body, `unauthenticated` when it needs a key (and then
 * `rate_limited`, 429, past the key's limit, and `dependency_unavailable`, 503, when the limiter's
 * counters cannot be reached), and `internal_error` for a bug anywhere.
 */
export function impliedErrors(spec: RouteSpec): PayErrorCode[] {
  const { params, query } = spec.request;
  const body = spec.request.body ?? spec.rawBody;
  return [
    ...(body !== undefined || params !== undefined || query !== undefined
      ? ['invalid_request' as const]
      : []),
    ...(body !== undefined ? ['payload_too_large' as const] : []),
    ...(spec.auth === 'bearer' ? ['unauthenticated' as const] : []),
    ...(spec.auth === 'bearer' ? ['rate_limited' as const, 'dependency_unavailable' as const] : []),
    'internal_error',
  ];
}
