import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ControlRoutes } from '../control/routes.js';
import { DEFAULT_API_VERSION } from '../options.js';
import { newRequestId } from '../wire/ids.js';
import type { ApiPipeline } from './api-pipeline.js';
import { headerValue, writeJson } from './respond.js';

/** An answer outside the pipeline (body too large, a crash), still with Stripe's headers. */
function writeBare(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
): void {
  writeJson(res, status, JSON.stringify({ error: { message, type } }), {
    requestId: newRequestId(),
    stripeVersion: headerValue(req.headers['stripe-version']) ?? DEFAULT_API_VERSION,
    idempotencyKey: headerValue(req.headers['idempotency-key']),
  });
}

/** Stripe's request bodies are small; anything this large is a mistake or an attack. */
const MAX_BODY_BYTES = 1024 * 1024;

class BodyTooLargeError extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  // Fast path: a GET or DELETE without a body never touches the stream machinery.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    req.resume();
    return Promise.resolve('');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit, drain without keeping anything, so the 413 can still be written on this socket.
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
      }
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLargeError());
        return;
      }
      resolve(
        chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'),
      );
    });
    req.on('error', reject);
  });
}

/**
 * The sandbox's HTTP server: node:http, no framework (the bench target is thousands of requests per
 * second on one core). `/_sandbox/*` goes to the control plane, everything else to the `/v1` pipeline.
 * Keep-alive stays on (the SDK's agent keeps sockets), with a long idle timeout so that the server does
 * not close a socket the client is about to reuse.
 */
export function createSandboxServer(
  api: ApiPipeline,
  control: ControlRoutes,
  logError: (message: string, error: unknown) => void,
): Server {
  const listener = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    // The API accepts `//` for `/` (stripe-mock's DoubleSlashFixHandler says the real one does too).
    const rawPath = q === -1 ? url : url.slice(0, q);
    const path = rawPath.includes('//') ? rawPath.replace(/\/{2,}/g, '/') : rawPath;
    const query = q === -1 ? '' : url.slice(q + 1);
    let body: string;
    try {
      body = await readBody(req);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        writeBare(req, res, 413, 'Request body too large', 'invalid_request_error');
      }
      return;
    }
    if (path === '/_sandbox' || path.startsWith('/_sandbox/')) {
      await control.handle(req, res, path, query, body);
    } else {
      await api.handle(req, res, path, query, body);
    }
  };
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    listener(req, res).catch((error: unknown) => {
      logError('stripe-sandbox: request failed', error);
      if (!res.headersSent && !res.destroyed) {
        writeBare(req, res, 500, 'An unknown error occurred', 'api_error');
      } else {
        res.destroy();
      }
    });
  });
  server.headersTimeout = 66_000;
  return server;
}
