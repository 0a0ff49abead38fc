import type { RequestHandler } from 'express';
import { routeLabel } from './route-label.js';

/**
 * One line per request when the response is finished (or the client gave up): method, path, route,
 * status and duration. Never the query string, bodies or headers: any of them may hold a secret.
 */
export const accessLog: RequestHandler = (req, res, next) => {
  const started = process.hrtime.bigint();
  const path = req.path;
  let logged = false;
  const log = (): void => {
    if (logged) {
      return;
    }
    logged = true;
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    res.locals.logger.info('request', {
      method: req.method,
      path,
      route: routeLabel(req, res),
      status: res.statusCode,
      durationMs: Math.round(durationMs * 10) / 10,
      ...(res.writableFinished ? {} : { aborted: true }),
    });
  };
  res.once('finish', log);
  res.once('close', log);
  next();
};
