import type { Request, RequestHandler, Response } from 'express';

/** The label of requests no route matched: never the raw URL, which would explode metric cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Records the matched route pattern on `res.locals.route`. Put it first in a route's handlers (validate()
 * does): there `req.baseUrl` still holds the router's mount path, which Express resets when an error
 * leaves the router.
 */
export const recordRoute: RequestHandler = (req, res, next) => {
  const pattern = res.locals.route ?? patternOf(req);
  if (pattern !== undefined) {
    res.locals.route = pattern;
  }
  next();
};

function patternOf(req: Request): string | undefined {
  // Express types req.route as any; read it as the unknown it is.
  const route: unknown = req.route;
  if (typeof route === 'object' && route !== null && 'path' in route && typeof route.path === 'string') {
    return `${req.baseUrl}${route.path}`;
  }
  return undefined;
}

/** The route pattern of a finished request, for metrics and the access log. */
export function routeLabel(req: Request, res: Response): string {
  return res.locals.route ?? patternOf(req) ?? UNMATCHED_ROUTE;
}
