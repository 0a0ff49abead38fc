import { DependencyUnavailableError } from '@pay/core';
import type { Pay } from '@pay/runtime';
import { Router } from 'express';
import { recordRoute } from '../middleware/route-label.js';

/** `GET /healthz`: the process is up. */
export interface THealthzResponse {
  readonly status: 'ok';
}

/** `GET /readyz` when pay can serve: the database answers and every migration is applied. */
export interface TReadyzResponse {
  readonly status: 'ready';
  /** `embedded` or `postgres`, with ` (SANDBOX)` when payments go to the in-process Stripe sandbox. */
  readonly mode: string;
  readonly database: 'ok';
  readonly migrations: { readonly applied: number; readonly total: number };
}

// A probe must answer: an embedded database held by a CLI command, or a stuck pool, makes it wait.
const READINESS_TIMEOUT_MS = 5_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function checkReadiness(pay: Pay): Promise<TReadyzResponse> {
  let migrations: { applied: number; total: number };
  try {
    migrations = await withTimeout(
      pay.db.ping().then(() => pay.db.migrationState()),
      READINESS_TIMEOUT_MS,
      'the database',
    );
  } catch (error) {
    throw new DependencyUnavailableError('The database is unavailable.', { cause: error });
  }
  if (migrations.applied !== migrations.total) {
    throw new DependencyUnavailableError(
      `The database schema is not current: ${migrations.applied} of ${migrations.total} migrations applied.`,
      { context: { migrations } },
    );
  }
  return { status: 'ready', mode: pay.modeLabel, database: 'ok', migrations };
}

/** Liveness (`/healthz`, no dependencies) and readiness (`/readyz`, the database) probes. */
export function healthRouter(pay: Pay): Router {
  const router = Router();
  router.get('/healthz', recordRoute, (_req, res) => {
    const body: THealthzResponse = { status: 'ok' };
    res.json(body);
  });
  router.get('/readyz', recordRoute, async (_req, res) => {
    res.json(await checkReadiness(pay));
  });
  return router;
}
