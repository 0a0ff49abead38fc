import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '@pay/core';

/** The socket file PostgreSQL clients look for in a socket directory (port 5432). */
export const SOCKET_FILE = '.s.PGSQL.5432';

// sockaddr_un.sun_path holds 108 bytes on Linux and 104 on macOS; stay clear of both.
const MAX_SOCKET_PATH_BYTES = 100;

/** The private pglite-socket server's socket: only the proxy connects to it. */
const PRIVATE_SOCKET_FILE = '.s.PGSQL.private';

/**
 * The private socket lives in the data folder (the lock holder removes a dead process's leftover),
 * or in a fresh temporary folder when that path is too long for a socket.
 */
function privateSocketPath(dataDir: string): { path: string; remove: () => void } {
  const inDataDir = path.resolve(dataDir, PRIVATE_SOCKET_FILE);
  if (Buffer.byteLength(inDataDir) <= MAX_SOCKET_PATH_BYTES) {
    fs.rmSync(inDataDir, { force: true });
    return { path: inDataDir, remove: () => fs.rmSync(inDataDir, { force: true }) };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pay-pg-'));
  return { path: path.join(dir, 's'), remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Where local clients reach the embedded database: a unix socket, or loopback TCP when the path is too long. */
export type EmbeddedAddress = { readonly socket: string } | { readonly host: string; readonly port: number };

/** The embedded database served to other local processes (the CLI). */
export interface EmbeddedServer {
  readonly address: EmbeddedAddress;
  /** Stops accepting, disconnects clients (rolling back what they left open) and removes the socket. */
  close(): Promise<void>;
}

/** Options of {@link serveEmbedded}. */
export interface ServeEmbeddedOptions {
  readonly logger: Logger;
  /** A client silent this long is disconnected, so a hung CLI cannot stall the API forever. */
  readonly idleTimeoutMs?: number;
}

/**
 * Serves `pglite` on `<dataDir>/.s.PGSQL.5432` (or 127.0.0.1 on a free port when that path is too long).
 *
 * PGlite is one Postgres session. pglite-socket 0.2.17 only takes PGlite's per-message query lock, so
 * a client's messages could land inside one of the API's transactions, and the API's queries inside a
 * client's `BEGIN … COMMIT`. So every client connection first takes PGlite's transaction lock (the one
 * `query`, `exec` and `transaction` wait on) and holds it until it disconnects: a CLI command runs
 * alone, the API's queries wait and then complete. The clients talk to a private pglite-socket server
 * through a small proxy, which is what lets pay see each connection start and end.
 */
export async function serveEmbedded(
  pglite: PGlite,
  dataDir: string,
  options: ServeEmbeddedOptions,
): Promise<EmbeddedServer> {
  const logger = options.logger.child({ component: 'embedded-server' });
  const upstreamHome = privateSocketPath(dataDir);
  const upstream = new PGLiteSocketServer({
    db: pglite,
    path: upstreamHome.path,
    // Connections are serialised by the lease below; a few spare slots cover a closing one.
    maxConnections: 8,
  });
  const stopUpstream = async (): Promise<void> => {
    await upstream.stop();
    upstreamHome.remove();
  };
  try {
    await upstream.start();
    fs.chmodSync(upstreamHome.path, 0o600);
  } catch (error) {
    await stopUpstream();
    throw error;
  }

  const connections = new Set<Promise<void>>();
  const sockets = new Set<net.Socket>();
  let closing = false;
  const front = net.createServer((client) => {
    sockets.add(client);
    const done = proxyConnection(client, {
      pglite,
      upstream,
      upstreamPath: upstreamHome.path,
      logger,
      options,
      isClosing: () => closing,
    })
      .catch((error: unknown) => logger.error('embedded client connection failed', { error }))
      .finally(() => {
        sockets.delete(client);
        connections.delete(done);
      });
    connections.add(done);
  });
  front.maxConnections = 64;

  let address: EmbeddedAddress;
  try {
    address = await listen(front, path.resolve(dataDir, SOCKET_FILE));
  } catch (error) {
    await stopUpstream();
    throw error;
  }
  logger.debug('embedded database served', { address });

  return {
    address,
    close: async () => {
      closing = true;
      // close()'s only error is "not running", which is the state wanted here.
      const stopped = new Promise<void>((resolve) => front.close(() => resolve()));
      for (const socket of sockets) {
        socket.destroy();
      }
      await Promise.all(connections);
      await stopped;
      await stopUpstream();
      if ('socket' in address) {
        fs.rmSync(address.socket, { force: true });
      }
    },
  };
}

async function listen(server: net.Server, socketPath: string): Promise<EmbeddedAddress> {
  if (Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH_BYTES) {
    // The caller holds the data folder's lock, so a socket file still there is a dead process's.
    fs.rmSync(socketPath, { force: true });
    await listenOn(server, () => server.listen(socketPath));
    fs.chmodSync(socketPath, 0o600);
    return { socket: socketPath };
  }
  await listenOn(server, () => server.listen(0, '127.0.0.1'));
  const info = server.address();
  if (info === null || typeof info === 'string') {
    throw new Error(`unexpected server address ${String(info)}`);
  }
  return { host: '127.0.0.1', port: info.port };
}

function listenOn(server: net.Server, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    start();
  });
}

interface ProxyContext {
  readonly pglite: PGlite;
  readonly upstream: PGLiteSocketServer;
  readonly upstreamPath: string;
  readonly logger: Logger;
  readonly options: ServeEmbeddedOptions;
  readonly isClosing: () => boolean;
}

async function proxyConnection(client: net.Socket, ctx: ProxyContext): Promise<void> {
  client.pause();
  client.on('error', (error) => ctx.logger.debug('embedded client socket error', { error }));
  const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  const release = await holdTransactionLock(ctx.pglite);
  try {
    if (ctx.isClosing() || client.destroyed) {
      client.destroy();
      return;
    }
    const server = net.connect(ctx.upstreamPath);
    server.on('error', (error) => ctx.logger.debug('embedded upstream socket error', { error }));
    const serverClosed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    client.setTimeout(ctx.options.idleTimeoutMs ?? 30_000, () => client.destroy());
    client.once('close', () => server.destroy());
    server.once('close', () => client.destroy());
    client.pipe(server);
    server.pipe(client);
    await Promise.all([clientClosed, serverClosed]);
    await waitForUpstreamIdle(ctx.upstream);
    await resetSession(ctx.pglite, ctx.logger);
  } finally {
    release();
  }
}

/**
 * Takes PGlite's transaction lock and keeps it until the returned function is called. Internal API of
 * PGlite, pinned with pglite-socket (0.5.14 + 0.2.17): it is the lock PGlite's own transactions use.
 */
function holdTransactionLock(pglite: PGlite): Promise<() => void> {
  return new Promise((resolveHeld, rejectHeld) => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    pglite
      ._runExclusiveTransaction(async () => {
        resolveHeld(release);
        await released;
      })
      .catch(rejectHeld);
  });
}

/** Waits for pglite-socket to finish the disconnected client's last messages (bounded: 2 s). */
async function waitForUpstreamIdle(upstream: PGLiteSocketServer): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (Date.now() < deadline) {
    const stats = upstream.getStats();
    if (stats.activeConnections === 0 && stats.queuedQueries === 0) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A client that dies mid-transaction leaves it open in the one shared session, and its prepared
 * statements stay behind: roll back and deallocate before the API's queries run again.
 */
async function resetSession(pglite: PGlite, logger: Logger): Promise<void> {
  await pglite.runExclusive(async () => {
    if (pglite.isInTransaction()) {
      logger.warn('embedded client disconnected inside a transaction; rolled back');
      await pglite.execProtocolRaw(simpleQuery('ROLLBACK'));
    }
    await pglite.execProtocolRaw(simpleQuery('DEALLOCATE ALL'));
  });
}

/** A wire-protocol simple Query message ('Q', length, text, NUL). */
function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const message = Buffer.alloc(5 + text.length);
  message.write('Q', 0, 'ascii');
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return new Uint8Array(message);
}
