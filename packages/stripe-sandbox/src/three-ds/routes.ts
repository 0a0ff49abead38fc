import type { ServerResponse } from 'node:http';
import { ControlError, type SandboxControl } from '../control/control.js';
import type { SandboxCore } from '../core.js';
import { decodeForm } from '../wire/form.js';
import { challengePage, resultPage, returnLocation } from './page.js';

function writeHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
  });
  res.end(html);
}

/**
 * `GET /_sandbox/3ds/:pi?client_secret=…` shows the challenge; `POST` to the same URL (form fields
 * `client_secret`, `outcome=succeed|fail`) moves the intent on as SANDBOX.md §6.3 says, then redirects
 * the browser (303) to the intent's `return_url`, as Stripe does, or shows the result.
 */
export class ThreeDSecurePage {
  constructor(
    private readonly core: SandboxCore,
    private readonly control: SandboxControl,
  ) {}

  handle(method: string, res: ServerResponse, intentId: string, query: string, body: string): void {
    const found = this.core.findPaymentIntent(intentId);
    const fields = decodeForm(method === 'POST' ? body : query);
    const secret = typeof fields.client_secret === 'string' ? fields.client_secret : undefined;
    if (found === undefined || secret !== found.record.object.client_secret) {
      writeHtml(
        res,
        404,
        resultPage('Not found', 'Unknown payment, or a client secret that does not match it.', 'not_found'),
      );
      return;
    }
    const pi = found.record.object;
    if (pi.status !== 'requires_action') {
      writeHtml(
        res,
        method === 'POST' ? 409 : 200,
        resultPage(
          'Nothing to authenticate',
          `This payment is not awaiting authentication (status: ${pi.status}).`,
          pi.status,
        ),
      );
      return;
    }
    if (method === 'GET') {
      const last4 = found.account.paymentMethods.get(pi.payment_method ?? '')?.object.card.last4 ?? null;
      const action = `/_sandbox/3ds/${encodeURIComponent(pi.id)}`;
      writeHtml(res, 200, challengePage(pi, last4, action));
      return;
    }
    const outcome = fields.outcome;
    if (outcome !== 'succeed' && outcome !== 'fail') {
      writeHtml(res, 400, resultPage('Bad request', 'outcome must be succeed or fail.', 'bad_request'));
      return;
    }
    let after;
    try {
      after = this.control.authenticate(pi.id, outcome);
    } catch (error) {
      if (error instanceof ControlError) {
        writeHtml(res, error.status, resultPage('Authentication not possible', error.message, 'error'));
        return;
      }
      throw error;
    }
    const returnUrl = found.account.paymentIntents.get(pi.id)?.returnUrl ?? null;
    if (returnUrl !== null) {
      const location = returnLocation(returnUrl, after);
      res.writeHead(303, { Location: location, 'Content-Length': 0, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    const done = outcome === 'succeed' ? 'Authentication complete' : 'Authentication failed';
    writeHtml(
      res,
      200,
      resultPage(done, `${done}. You can close this window. (status: ${after.status})`, after.status),
    );
  }
}
