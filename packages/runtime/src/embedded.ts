import fs from 'node:fs';
import path from 'node:path';
import { DependencyUnavailableError, silentLogger, type Logger } from '@pay/core';
import { connectPostgres, migratePglite, openPglite, type Database, type PostgresTarget } from '@pay/db';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { serveEmbedded, type EmbeddedAddress } from './embedded-server.js';
import { readLiveService, removeServiceFile, writeServiceFile, type ServiceInfo } from './service-file.js';

/** The PGlite data directory inside pay's data folder (beside service.lock and service.json). */
export const PGDATA_DIR = 'pgdata';

/** The embedded database as the API holds it: PGlite opened, migrated and served to local clients. */
export interface EmbeddedService {
  readonly db: Database;
  readonly address: EmbeddedAddress;
  /** Migrations this start applied (0 when the data was already current). */
  readonly migrationsApplied: number;
}

/** The embedded database as the CLI reaches it: through the running service, or directly when none runs. */
export type EmbeddedClient = Database & {
  readonly via: 'service' | 'direct';
  /** Migrations this open applied; always 0 through the service, which migrated at its start. */
  readonly migrationsApplied: number;
};

/** Options of the embedded openers. */
export interface EmbeddedOptions {
  readonly logger?: Logger;
  /** Written to service.json so local clients use the service's Stripe sandbox (service side only). */
  readonly stripeSandboxUrl?: string | undefined;
}

/**
 * Opens the embedded data folder for the API: creates it if missing, takes `service.lock` (refusing
 * when a live process holds it), opens PGlite in `<dataDir>/pgdata`, applies migrations, serves the
 * database to local clients (see serveEmbedded) and writes `service.json`. `db.close()` undoes all of it.
 */
export async function openEmbeddedService(
  dataDir: string,
  options: EmbeddedOptions = {},
): Promise<EmbeddedService> {
  const logger = options.logger ?? silentLogger;
  const resolved = path.resolve(dataDir);
  const local = await openLocked(resolved, logger);
  let server: Awaited<ReturnType<typeof serveEmbedded>> | undefined;
  try {
    server = await serveEmbedded(local.db.pglite, resolved, { logger });
    writeServiceFile(resolved, server.address, new Date(), { stripeSandboxUrl: options.stripeSandboxUrl });
  } catch (error) {
    await cleanUp(logger, [() => server?.close(), () => local.db.close(), () => local.lock.release()]);
    throw error;
  }
  const served = server;
  return {
    address: served.address,
    migrationsApplied: local.migrationsApplied,
    db: withClose(local.db, () =>
      runAll([
        () => removeServiceFile(resolved),
        () => served.close(),
        () => local.db.close(),
        () => local.lock.release(),
      ]),
    ),
  };
}

/**
 * Opens the embedded data folder for the CLI. When `service.json` names a live process, connects to
 * its socket with one connection (keep the command short: while it is connected, the service's own
 * queries wait). Otherwise opens the PGlite folder directly under the same lock the service takes,
 * applying any pending migration.
 */
export async function openEmbeddedClient(
  dataDir: string,
  options: EmbeddedOptions = {},
): Promise<EmbeddedClient> {
  const logger = options.logger ?? silentLogger;
  const resolved = path.resolve(dataDir);
  const service = readLiveService(resolved);
  if (service !== undefined) {
    const db = connectPostgres(serviceTarget(service), { max: 1 });
    try {
      await db.ping();
      return Object.assign(
        withClose(db, () => db.close()),
        { via: 'service' as const, migrationsApplied: 0 },
      );
    } catch (error) {
      await cleanUp(logger, [() => db.close()]);
      // The service may have stopped between reading service.json and connecting: then open directly.
      if (readLiveService(resolved)?.pid === service.pid) {
        throw new DependencyUnavailableError(
          `the pay service (pid ${service.pid}) uses ${resolved} but did not answer on ${describe(service)}`,
          { cause: error, context: { dataDir: resolved, pid: service.pid } },
        );
      }
      logger.info('the embedded service stopped while connecting; opening the data folder directly');
    }
  }
  const local = await openLocked(resolved, logger);
  return Object.assign(
    withClose(local.db, () => runAll([() => local.db.close(), () => local.lock.release()])),
    { via: 'direct' as const, migrationsApplied: local.migrationsApplied },
  );
}

function serviceTarget(service: ServiceInfo): PostgresTarget {
  // PGlite has one database and one superuser, both named postgres.
  if (service.socket !== undefined) {
    return { path: service.socket, database: 'postgres', user: 'postgres' };
  }
  return `postgres://postgres@${service.host ?? '127.0.0.1'}:${service.port ?? 5432}/postgres`;
}

function describe(service: ServiceInfo): string {
  return service.socket ?? `${service.host ?? '127.0.0.1'}:${service.port ?? 5432}`;
}

async function openLocked(
  dataDir: string,
  logger: Logger,
): Promise<{ db: Awaited<ReturnType<typeof openPglite>>; lock: DataDirLock; migrationsApplied: number }> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock = acquireDataDirLock(dataDir);
  let db: Awaited<ReturnType<typeof openPglite>> | undefined;
  try {
    db = await openPglite({ dataDir: path.join(dataDir, PGDATA_DIR) });
    const { applied } = await migratePglite(db.pglite);
    if (applied > 0) {
      logger.info('migrations applied', { applied, dataDir });
    }
    return { db, lock, migrationsApplied: applied };
  } catch (error) {
    const opened = db;
    await cleanUp(logger, [() => opened?.close(), () => lock.release()]);
    throw error;
  }
}

/** A copy of `db` whose close() runs `close` once; later calls wait for the same result. */
function withClose(db: Database, close: () => Promise<void>): Database {
  let closing: Promise<void> | undefined;
  return {
    driver: db.driver,
    store: db.store,
    ping: () => db.ping(),
    migrationState: () => db.migrationState(),
    close: () => (closing ??= close()),
  };
}

type Step = () => unknown;

/** Runs every step even when one fails, then throws the first failure. */
async function runAll(steps: Step[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length === 1) {
    throw failures[0];
  }
  if (failures.length > 1) {
    throw new AggregateError(failures, 'closing the embedded database failed');
  }
}

/** Cleanup after a failed open: the open's own error is the one to throw, so these are logged. */
async function cleanUp(logger: Logger, steps: Step[]): Promise<void> {
  try {
    await runAll(steps);
  } catch (error) {
    logger.warn('cleanup after a failed open failed too', { error });
  }
}
