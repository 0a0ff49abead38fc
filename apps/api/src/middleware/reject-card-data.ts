import { findCardData, ValidationError, type CardDataFinding, type CardDataPathSegment } from '@pay/core';
import { STRIPE_WEBHOOK_PATH } from '@pay/runtime';
import type { Request, RequestHandler } from 'express';

/**
 * The routes under `/api/v1` whose input is not checked for card data, matched like
 * `UNAUTHENTICATED_ROUTES`: method and exact path. Stripe's webhook payloads come from Stripe, are
 * verified by signature, and may legitimately carry long digit runs.
 */
export const CARD_DATA_EXEMPT_ROUTES: readonly { readonly method: string; readonly path: string }[] = [
  { method: 'POST', path: STRIPE_WEBHOOK_PATH },
];

/** What every refusal tells the client to do instead. */
export const SEND_PAYMENT_METHOD_INSTEAD =
  'pay never accepts card data: collect the card with Stripe (Elements, Checkout or the mobile SDKs) and send its PaymentMethod id as payment_method_id.';

// The credential itself: it is checked, hashed and never logged by authenticate(), and a key's random
// part may contain any digits.
const UNCHECKED_HEADERS = new Set(['authorization']);

type Location = 'body' | 'query' | 'header';

const LOCATION_WORDS: Record<Location, string> = {
  body: 'body parameter',
  query: 'query parameter',
  header: 'header',
};

/** A field path in Stripe's spelling, as in every other `param` pay returns: `metadata[note]`. */
function formatParam(path: readonly CardDataPathSegment[]): string | undefined {
  const [first, ...rest] = path.map(String);
  return first === undefined ? undefined : first + rest.map((p) => `[${p}]`).join('');
}

function refusal(finding: CardDataFinding, location: Location): ValidationError {
  const param = formatParam(finding.path);
  const where =
    param === undefined ? `The request ${location}` : `The ${LOCATION_WORDS[location]} '${param}'`;
  const what = finding.kind === 'pan' ? 'looks like a card number' : 'is a card data field';
  // Only the field's path goes in the message and `param`: never the value.
  return new ValidationError(`${where} ${what}. ${SEND_PAYMENT_METHOD_INSTEAD}`, {
    ...(param === undefined ? {} : { param }),
  });
}

function checkedHeaders(req: Request): Record<string, unknown> {
  return Object.fromEntries(Object.entries(req.headers).filter(([name]) => !UNCHECKED_HEADERS.has(name)));
}

function isExempt(req: Request): boolean {
  const path = `${req.baseUrl}${req.path}`;
  return CARD_DATA_EXEMPT_ROUTES.some((route) => route.method === req.method && route.path === path);
}

/**
 * Refuses, with a 400 `invalid_request`, any request whose body, query string or headers (but
 * `Authorization`) carry something that looks like a card number, or whose body or query string has a
 * field named `card`, `card_number`, `cvc` or `cvv` (DESIGN.md §2 invariant 2, RELIABILITY.md F1).
 * Mount it on `/api/v1` right after JSON parsing, so it runs before authentication and every handler:
 * nothing is written and nothing is sent to Stripe. The error names the field, never the value, and
 * 4xx bodies are not logged, so the value reaches no log line either.
 */
export const rejectCardData: RequestHandler = (req, _res, next) => {
  if (isExempt(req)) {
    next();
    return;
  }
  const inputs: [Location, unknown, boolean][] = [
    ['body', req.body, true],
    ['query', req.query, true],
    ['header', checkedHeaders(req), false],
  ];
  for (const [location, value, cardFields] of inputs) {
    const finding = findCardData(value, { cardFields });
    if (finding !== null) {
      throw refusal(finding, location);
    }
  }
  next();
};
