import { ValidationError } from '@pay/core';
import type { z } from 'zod';

/** Where a value came from, for the message: body, query string or path. */
export type InputLocation = 'body' | 'query' | 'params';

const LOCATION_WORD: Record<InputLocation, string> = { body: 'body', query: 'query', params: 'path' };

/** A request field path in Stripe's spelling: `items[0][price]`. */
function formatParam(path: readonly PropertyKey[]): string | undefined {
  const [first, ...rest] = path.map(String);
  return first === undefined ? undefined : first + rest.map((p) => `[${p}]`).join('');
}

/**
 * The 400 for a failed zod parse: `param` is the first failing field, the message names it. zod's
 * messages describe the expectation, never the value, so nothing the client sent (a PAN) is repeated.
 */
export function validationErrorFromZod(error: z.ZodError, location?: InputLocation): ValidationError {
  const [issue] = error.issues;
  if (issue === undefined) {
    return new ValidationError('Invalid request.', { cause: error });
  }
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, ...issue.keys.slice(0, 1)] : issue.path;
  const param = formatParam(path);
  const word = location === undefined ? undefined : LOCATION_WORD[location];
  const where =
    param === undefined
      ? `Invalid request${word === undefined ? '' : ` ${word}`}`
      : `Invalid ${word === undefined ? 'request' : `${word} parameter`} '${param}'`;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  const message = `${where}: ${issue.message}${more}`;
  return new ValidationError(message, { ...(param === undefined ? {} : { param }), cause: error });
}
