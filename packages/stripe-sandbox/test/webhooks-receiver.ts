import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One webhook request as a receiver saw it: the raw body bytes as text, and the headers. */
export interface ReceivedWebhook {
  body: string;
  headers: http.IncomingHttpHeaders;
  signature: string;
  method: string;
  /** The client's port: the same one on consecutive requests means the connection was kept alive. */
  remotePort: number | undefined;
}

/** How the receiver answers one request: a status code, or never ('hang'). */
export type ReceiverReply = number | 'hang';

/** A real HTTP server on 127.0.0.1 standing in for a webhook endpoint (pay's route, in production). */
export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** The replies for the next requests, in order; after them, `fallback` (200 unless changed). */
  reply(...replies: ReceiverReply[]): void;
  setFallback(reply: ReceiverReply): void;
  /** Resolves once `count` requests have arrived in total; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/** Starts a receiver on an ephemeral port; every request is recorded before it is answered. */
export async function startWebhookReceiver(path = '/webhooks'): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const script: ReceiverReply[] = [];
  let fallback: ReceiverReply = 200;
  const waiters: Array<{ count: number; resolve: () => void }> = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const signature = req.headers['stripe-signature'];
      received.push({
        body: Buffer.concat(chunks).toString('utf8'),
        headers: req.headers,
        signature: typeof signature === 'string' ? signature : '',
        method: req.method ?? '',
        remotePort: req.socket.remotePort,
      });
      for (const waiter of waiters.filter((w) => received.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      const replyWith = script.shift() ?? fallback;
      if (replyWith !== 'hang') {
        res.writeHead(replyWith, { 'Content-Type': 'application/json' }).end('{"received":true}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    reply: (...replies) => script.push(...replies),
    setFallback: (reply) => {
      fallback = reply;
    },
    waitFor(count, timeoutMs = 5000) {
      if (received.length >= count) {
        return Promise.resolve(received.slice());
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`expected ${count} webhook requests, got ${received.length} in ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(received.slice());
          },
        });
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
