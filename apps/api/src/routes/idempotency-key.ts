import { ValidationError } from '@pay/core';
import type { Request } from 'express';
import { z } from 'zod';
import type { HeaderSpec } from './route.js';

/*
 * The `Idempotency-Key` of a POST that creates something (RELIABILITY.md A3, DESIGN.md §4): required,
 * sent as the header or as the body's `idempotency_key` (one value if both), and of a shape that can
 * be stored, compared and logged safely. Refunds and subscriptions read theirs the same way.
 */

/** The request header carrying the key (Stripe's and the IETF draft's name). */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** The response header that marks a stored answer sent again. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/** The fewest characters a key may have: short keys collide, and a UUID has 36. */
export const IDEMPOTENCY_KEY_MIN_LENGTH = 20;

/** The most characters a key may have (Stripe's limit). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** Where the rules of the header are written down: every refusal links it. */
export const IDEMPOTENCY_KEY_DOCS_URL =
  'https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/';

// Printable ASCII without the space (0x21–0x7E): what survives headers, logs and copy-paste unchanged.
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;

const RULE =
  `An idempotency key is ${IDEMPOTENCY_KEY_MIN_LENGTH} to ${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII ` +
  'characters without spaces, unique per operation (a UUID v4 will do).';

const SEE_DOCS = `See ${IDEMPOTENCY_KEY_DOCS_URL}`;

/** What is wrong with `key`, as the end of a sentence, or null when nothing is. */
function keyProblem(key: string): string | null {
  if (key === '') {
    return 'is empty';
  }
  if (key.length < IDEMPOTENCY_KEY_MIN_LENGTH) {
    return `is shorter than ${IDEMPOTENCY_KEY_MIN_LENGTH} characters`;
  }
  if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    return `is longer than ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`;
  }
  if (!PRINTABLE_ASCII.test(key)) {
    return 'holds a character that is not printable ASCII (a space, a control character or non-ASCII)';
  }
  return null;
}

/**
 * The body's `idempotency_key`: the same rules as the header. The message describes the rule, never the
 * value (which the client sent and may log).
 */
export const ZIdempotencyKey = z
  .string()
  .superRefine((key, ctx) => {
    const problem = keyProblem(key);
    if (problem !== null) {
      ctx.addIssue({ code: 'custom', message: `the idempotency key ${problem}. ${RULE} ${SEE_DOCS}` });
    }
  })
  .meta({
    minLength: IDEMPOTENCY_KEY_MIN_LENGTH,
    maxLength: IDEMPOTENCY_KEY_MAX_LENGTH,
    pattern: '^[\\x21-\\x7E]+$',
    description: `The request's idempotency key, when not sent as the \`${IDEMPOTENCY_KEY_HEADER}\` header (the same value if both).`,
  });

/**
 * The request's idempotency key: the header, or the body's `idempotency_key` (already checked by
 * {@link ZIdempotencyKey}). Throws a 400 `invalid_request` with `param: 'Idempotency-Key'` when neither
 * is there, the header breaks the rules, or the two differ: nothing is written and nothing is stored, so
 * the client may fix the request and send it again.
 */
export function idempotencyKeyOf(req: Request, bodyKey: string | undefined): string {
  const header = req.get(IDEMPOTENCY_KEY_HEADER);
  if (header === undefined) {
    if (bodyKey === undefined) {
      throw refusal(`This request needs an ${IDEMPOTENCY_KEY_HEADER} header, and it has none.`);
    }
    return bodyKey;
  }
  const problem = keyProblem(header);
  if (problem !== null) {
    throw refusal(`The ${IDEMPOTENCY_KEY_HEADER} header ${problem}.`);
  }
  if (bodyKey !== undefined && bodyKey !== header) {
    throw refusal(
      `The ${IDEMPOTENCY_KEY_HEADER} header and the body's idempotency_key differ: send the key once, or the same value in both.`,
    );
  }
  return header;
}

function refusal(what: string): ValidationError {
  return new ValidationError(`${what} ${RULE} ${SEE_DOCS}`, { param: IDEMPOTENCY_KEY_HEADER });
}

/** The `Idempotency-Key` request header, as a route declares it for the OpenAPI document. */
export const IDEMPOTENCY_KEY_REQUEST_HEADER: HeaderSpec = {
  description:
    `${RULE} Required, here or as the body's \`idempotency_key\` (the same value if both). The same key ` +
    'with the same body answers the stored response again, marked `Idempotent-Replayed: true`; with ' +
    'another body, a 422 `idempotency_key_reused`; while the first request runs, a 409 ' +
    `\`idempotency_key_in_use\` with \`Retry-After\`. ${SEE_DOCS}`,
  required: false,
  schema: z.string().min(IDEMPOTENCY_KEY_MIN_LENGTH).max(IDEMPOTENCY_KEY_MAX_LENGTH).regex(PRINTABLE_ASCII),
};

/** The `Idempotent-Replayed` response header of an answer that may be a replay. */
export const IDEMPOTENT_REPLAYED_RESPONSE_HEADER: HeaderSpec = {
  description: 'Present, and `true`, when this is the stored answer to an earlier request with the same key.',
  required: false,
  schema: z.literal('true'),
};
