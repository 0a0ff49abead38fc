import { ValidationError } from '../errors.js';
import type { PageRequest } from '../ports/page.js';

/** Items on a list page when the caller names no `limit` (DESIGN.md §7). */
export const DEFAULT_PAGE_LIMIT = 10;

/** The largest `limit` a list accepts (DESIGN.md §7). */
export const MAX_PAGE_LIMIT = 100;

/** Checks a page request's `limit` (an integer from 1 to {@link MAX_PAGE_LIMIT}) or throws a {@link ValidationError}. */
export function checkPageRequest(page: PageRequest): PageRequest {
  if (!Number.isSafeInteger(page.limit) || page.limit < 1 || page.limit > MAX_PAGE_LIMIT) {
    throw new ValidationError(`The limit must be an integer from 1 to ${MAX_PAGE_LIMIT}.`, {
      param: 'limit',
    });
  }
  return page;
}
