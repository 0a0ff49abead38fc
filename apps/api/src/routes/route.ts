import type { PayErrorCode } from '@pay/core';
import type { Response, Router } from 'express';
import type { z } from 'zod';
import { validate, validated, type InputSchemas, type ValidatedInput } from '../middleware/validate.js';

/** The HTTP methods a route may answer. */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** `T` with every property and array read-only, so a handler may return read-only values it built. */
export type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The success answer of a route: its status, what it means and the schema of its body. */
export interface SuccessResponse<R extends z.ZodType> {
  readonly status: number;
  readonly description: string;
  readonly schema: R;
}

/**
 * Everything about one route that both Express and the OpenAPI document need, declared once. Express
 * mounts `validate(request)` from it and sends what the handler returns with `response.status`; the
 * document describes the very same schemas, so the two cannot drift apart.
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
  readonly response: SuccessResponse<R>;
  /**
   * The error codes the handler's service may raise. Those the mounting itself implies (see
   * {@link impliedErrors}) are added, so a route lists only its own.
   */
  readonly errors: readonly PayErrorCode[];
}

/** What a route's handler returns: the success body, typed from the response schema. */
export type ResponseBody<R extends z.ZodType> = DeepReadonly<z.output<R>>;

/**
 * A route's handler: parses nothing itself (validate() did), calls one service and shapes the result,
 * which is sent as the response body. Errors are thrown to the one error middleware.
 */
export type RouteHandler<S extends InputSchemas, R extends z.ZodType, D> = (
  input: ValidatedInput<S>,
  res: Response,
  deps: D,
) => Promise<ResponseBody<R>> | ResponseBody<R>;

/** A declared route: its spec (for the document) and how to mount it (for Express). */
export interface RouteDefinition<D> {
  readonly spec: RouteSpec;
  /** Mounts the route on `router`, whose mount path is the route group's prefix. */
  mount(router: Router, deps: D): void;
}

/** Declares a route once; see {@link RouteSpec}. */
export function defineRoute<const S extends InputSchemas, R extends z.ZodType, D>(
  spec: RouteSpec<S, R>,
  handler: RouteHandler<S, R, D>,
): RouteDefinition<D> {
  const input = validate(spec.request);
  return {
    spec,
    mount(router, deps) {
      router[spec.method](spec.path, input, async (_req, res) => {
        const body = await handler(validated(res, input), res, deps);
        res.status(spec.response.status).json(body);
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
 * input, `payload_too_large` when it takes a body, `unauthenticated` when it needs a key, and
 * `internal_error` for a bug anywhere.
 */
export function impliedErrors(spec: RouteSpec): PayErrorCode[] {
  const { body, params, query } = spec.request;
  return [
    ...(body !== undefined || params !== undefined || query !== undefined
      ? ['invalid_request' as const]
      : []),
    ...(body !== undefined ? ['payload_too_large' as const] : []),
    ...(spec.auth === 'bearer' ? ['unauthenticated' as const] : []),
    'internal_error',
  ];
}
