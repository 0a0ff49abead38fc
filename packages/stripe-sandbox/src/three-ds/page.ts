import type { PaymentIntentObject } from '../objects/payment-intent.js';
import { formatMoney } from '../wire/money.js';

/*
 * The 3-D Secure challenge page behind `next_action.redirect_to_url.url`. Element ids and `data-testid`s
 * are a contract with browser tests: the form `#three-ds-form`, the buttons `#complete-authentication`
 * and `#fail-authentication`, and `#three-ds-result` (with `data-status`) on the page shown after a
 * challenge when there is no `return_url` to go back to.
 */

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f6f9fc; color: #1a1f36; margin: 0; }
  main { max-width: 28rem; margin: 4rem auto; background: #fff; border-radius: 8px; padding: 2rem;
         box-shadow: 0 2px 8px rgba(0,0,0,.08); }
  h1 { font-size: 1.25rem; margin-top: 0; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: .25rem 1rem; }
  dt { color: #697386; }
  .actions { display: flex; gap: 1rem; margin-top: 1.5rem; }
  button { flex: 1; padding: .75rem; border-radius: 6px; border: 1px solid #c1c9d2; font-size: 1rem; cursor: pointer; }
  #complete-authentication { background: #635bff; color: #fff; border-color: #635bff; }
  .note { color: #697386; font-size: .875rem; }
</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

/** The challenge: what is being paid, and the two outcomes, posted back to the same URL. */
export function challengePage(pi: PaymentIntentObject, last4: string | null, action: string): string {
  const amount = formatMoney(pi.amount, pi.currency);
  return layout(
    '3D Secure authentication',
    `<h1>3D Secure 2 test page</h1>
<p class="note">Stripe sandbox: complete or fail the authentication of this payment.</p>
<dl>
  <dt>Payment</dt><dd id="three-ds-payment-intent">${escapeHtml(pi.id)}</dd>
  <dt>Amount</dt><dd id="three-ds-amount">${escapeHtml(amount)} ${escapeHtml(pi.currency.toUpperCase())}</dd>
  <dt>Card</dt><dd id="three-ds-card">${last4 === null ? '—' : `•••• ${escapeHtml(last4)}`}</dd>
</dl>
<form id="three-ds-form" method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="client_secret" value="${escapeHtml(pi.client_secret)}">
  <div class="actions">
    <button type="submit" name="outcome" value="fail" id="fail-authentication" data-testid="fail-authentication">Fail authentication</button>
    <button type="submit" name="outcome" value="succeed" id="complete-authentication" data-testid="complete-authentication">Complete authentication</button>
  </div>
</form>`,
  );
}

/** Shown after the challenge when the intent has no `return_url`, and for requests that cannot proceed. */
export function resultPage(title: string, message: string, status: string): string {
  return layout(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p id="three-ds-result" data-testid="three-ds-result" data-status="${escapeHtml(status)}">${escapeHtml(message)}</p>`,
  );
}

/** Where the browser goes after the challenge: `return_url` plus Stripe's two query parameters. */
export function returnLocation(returnUrl: string, pi: PaymentIntentObject): string {
  const extra = `payment_intent=${encodeURIComponent(pi.id)}&payment_intent_client_secret=${encodeURIComponent(pi.client_secret)}`;
  const hash = returnUrl.indexOf('#');
  const [head, fragment] = hash === -1 ? [returnUrl, ''] : [returnUrl.slice(0, hash), returnUrl.slice(hash)];
  return `${head}${head.includes('?') ? '&' : '?'}${extra}${fragment}`;
}
