import http from 'node:http';
import https from 'node:https';

/** What one POST to an endpoint came to: the HTTP status, or the reason there is none. */
export interface PostOutcome {
  status: number | null;
  error: string | null;
}

/** The request headers of SANDBOX.md §5.2 (Node adds Host, Content-Length and Connection). */
function deliveryHeaders(body: string, signature: string): http.OutgoingHttpHeaders {
  return {
    'Content-Type': 'application/json; charset=utf-8',
    'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
    'Stripe-Signature': signature,
    'Cache-Control': 'no-cache',
    'Content-Length': Buffer.byteLength(body),
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** A request that failed on a kept-alive socket the receiver had just closed, before any response. */
class StaleSocketError extends Error {}

/**
 * POSTs webhook bodies over keep-alive agents, never following redirects (a 3xx is a failure, as at
 * Stripe). The timeout is wall-clock time: it bounds a real network wait, whatever the sandbox clock
 * says. `abortAll` ends every request in flight (reset, close).
 */
export class WebhookSender {
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });
  private readonly inFlight = new Set<AbortController>();

  constructor(private readonly timeoutMs: number) {}

  async post(url: string, body: string, signature: string): Promise<PostOutcome> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return { status: null, error: `invalid endpoint url: ${url}` };
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return { status: null, error: `unsupported protocol ${target.protocol} in ${url}` };
    }
    try {
      return await this.once(target, body, signature);
    } catch (err) {
      // A receiver may close an idle keep-alive socket just as we reuse it; Node's documentation
      // recommends retrying such a request once on a fresh socket. It is not a delivery attempt.
      if (err instanceof StaleSocketError) {
        return this.once(target, body, signature).catch((again: unknown) => ({
          status: null,
          error: describe(again),
        }));
      }
      throw err;
    }
  }

  /** Aborts every request in flight; their attempts end as failures with `reason`. */
  abortAll(reason: string): void {
    for (const controller of this.inFlight) {
      controller.abort(new Error(reason));
    }
  }

  destroy(): void {
    this.abortAll('the webhook hub is closed');
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private once(target: URL, body: string, signature: string): Promise<PostOutcome> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(
      () => controller.abort(new Error(`timeout after ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    const transport = target.protocol === 'https:' ? https : http;
    return new Promise<PostOutcome>((resolve, reject) => {
      let responded = false;
      let settled = false;
      const finish = (outcome: PostOutcome): void => {
        if (settled) {
          return;
        }
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(controller);
        resolve(outcome);
      };
      const req = transport.request(target, {
        method: 'POST',
        agent: target.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
        headers: deliveryHeaders(body, signature),
        signal: controller.signal,
      });
      req.on('response', (res) => {
        responded = true;
        const status = res.statusCode ?? null;
        // Drain the body so the socket goes back to the agent; the status alone decides success.
        res.resume();
        res.on('end', () => finish({ status, error: null }));
        res.on('error', (err) => finish({ status: null, error: describe(controller.signal.reason ?? err) }));
        // A body cut short (abort, receiver gone) is a failure, not a success with that status.
        res.on('close', () => {
          if (!res.complete) {
            finish({ status: null, error: describe(controller.signal.reason ?? 'response cut short') });
          }
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (!responded && req.reusedSocket && !controller.signal.aborted && isResetCode(err.code)) {
          settled = true;
          clearTimeout(timer);
          this.inFlight.delete(controller);
          reject(new StaleSocketError(describe(err)));
          return;
        }
        finish({ status: null, error: describe(controller.signal.aborted ? controller.signal.reason : err) });
      });
      req.end(body);
    });
  }
}

function isResetCode(code: string | undefined): boolean {
  return code === 'ECONNRESET' || code === 'EPIPE';
}
