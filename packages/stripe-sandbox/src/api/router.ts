import type { CoreSettings } from '../core.js';
import type { JsonObject } from '../errors.js';
import type { Params } from '../wire/params.js';
import type { ExecContext } from './context.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** What a route executes: synchronous, so its state changes commit as one step with the stored response. */
export type Executor = (ctx: ExecContext) => ApiResult;

export interface ApiResult {
  /** 200 unless said otherwise. */
  status?: number;
  body: JsonObject;
}

/** The object type a route answers with, for validating `expand[]` before execution (`list:<type>` for lists). */
export type ResultType = string;

/**
 * One API endpoint. `handle` is the validation stage: it reads and checks the parameters (throwing
 * errors that are never stored under an idempotency key) and returns the executor, whose errors are.
 */
export interface RouteSpec {
  method: HttpMethod;
  /** `/v1/payment_intents/:intent/confirm`; `:name` segments become path parameters. */
  pattern: string;
  /** Allowed top-level parameters besides `expand` (checked before `handle`), or `any`. */
  params: readonly string[] | 'any';
  result: ResultType;
  /** The path parameter naming the object a POST mutates, for `lock_timeout` under rate limits. */
  lock?: string;
  handle(p: Params, path: Readonly<Record<string, string>>, settings: Readonly<CoreSettings>): Executor;
}

export type RouteMatch =
  { kind: 'found'; route: RouteSpec; path: Record<string, string> } | { kind: 'not_found' };

interface Compiled {
  route: RouteSpec;
  segments: string[];
}

/**
 * The route table: routes grouped by method and segment count, matched segment by segment. A few dozen
 * routes make anything cleverer pointless; static segments are compared before parameters are bound.
 */
export class Router {
  private readonly table = new Map<string, Compiled[]>();

  constructor(routes: readonly RouteSpec[]) {
    for (const route of routes) {
      const segments = route.pattern.split('/').slice(1);
      const key = `${route.method} ${segments.length}`;
      const list = this.table.get(key) ?? [];
      list.push({ route, segments });
      this.table.set(key, list);
    }
  }

  match(method: string, path: string): RouteMatch {
    const parts = path.split('/').slice(1);
    const candidates = this.table.get(`${method} ${parts.length}`);
    if (candidates === undefined) {
      return { kind: 'not_found' };
    }
    for (const { route, segments } of candidates) {
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i += 1) {
        const want = segments[i] ?? '';
        const got = parts[i] ?? '';
        if (want.startsWith(':')) {
          ok = got !== '';
          params[want.slice(1)] = safeDecode(got);
        } else {
          ok = want === got;
        }
      }
      if (ok) {
        return { kind: 'found', route, path: params };
      }
    }
    return { kind: 'not_found' };
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
