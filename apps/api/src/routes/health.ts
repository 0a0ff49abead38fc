import { DependencyUnavailableError } from '@pay/core';
import type { Pay } from '@pay/runtime';
import { Router } from 'express';
import { z } from 'zod';
import { defineRoute, mountRoutes } from './route.js';

/** `GET /healthz` answer: the process is up. */
export const ZHealthzResponse = z.object({ status: z.literal('ok') });
export type THealthzResponse = z.infer<typeof ZHealthzResponse>;

/** `GET /readyz` answer when pay can serve: the database answers and every migration is applied. */
export const ZReadyzResponse = z.object({
  status: z.literal('ready'),
  mode: z
    .string()
    .describe(
      '`embedded` or `postgres`, with ` (SANDBOX)` when payments go to the in-process Stripe sandbox.',
    ),
  database: z.literal('ok'),
  migrations: z.object({ applied: z.number().int().min(0), total: z.number().int().min(0) }),
});
export type TReadyzResponse = z.infer<typeof ZReadyzResponse>;

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

/** What the probes need. */
export interface ProbeDeps {
  readonly pay: Pay;
}

/** `GET /healthz`: liveness, no dependencies. */
export const healthzRoute = defineRoute(
  {
    method: 'get',
    path: '/healthz',
    operationId: 'getHealthz',
    summary: 'Liveness probe: the process is up',
    tags: ['probes'],
    auth: 'none',
    request: {},
    response: { status: 200, description: 'The process is up.', schema: ZHealthzResponse },
    errors: [],
  },
  (): THealthzResponse => ({ status: 'ok' }),
);

/** `GET /readyz`: readiness, the database answers and its schema is current. */
export const readyzRoute = defineRoute(
  {
    method: 'get',
    path: '/readyz',
    operationId: 'getReadyz',
    summary: 'Readiness probe: the database answers and every migration is applied',
    tags: ['probes'],
    auth: 'none',
    request: {},
    response: { status: 200, description: 'pay can serve.', schema: ZReadyzResponse },
    errors: ['dependency_unavailable'],
  },
  (_input, _res, { pay }: ProbeDeps) => checkReadiness(pay),
);

/** The probes, mounted at the root, without a key. */
export const PROBE_ROUTES = [healthzRoute, readyzRoute] as const;

/** Liveness (`/healthz`, no dependencies) and readiness (`/readyz`, the database) probes. */
export function healthRouter(pay: Pay): Router {
  const router = Router();
  mountRoutes(router, PROBE_ROUTES, { pay });
  return router;
}
