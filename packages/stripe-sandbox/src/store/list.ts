import { InvalidRequestError } from '../errors.js';
import type { Params } from '../wire/params.js';
import type { Page, PageRequest } from './collection.js';

/** Pagination parameters every list endpoint accepts. */
export const PAGE_PARAMS = ['limit', 'starting_after', 'ending_before'] as const;

/** Reads `limit` (1…100, default 10), `starting_after` and `ending_before` (SANDBOX.md §3.7). */
export function parsePage(p: Params): PageRequest {
  const raw = p.integer('limit');
  if (raw !== undefined && (raw < 1 || raw > 100)) {
    throw new InvalidRequestError('Invalid limit: must be an integer between 1 and 100.', {
      code: 'parameter_invalid_integer',
      param: 'limit',
    });
  }
  const startingAfter = p.string('starting_after') ?? undefined;
  const endingBefore = p.string('ending_before') ?? undefined;
  return {
    limit: raw ?? 10,
    ...(startingAfter === undefined ? {} : { startingAfter }),
    ...(endingBefore === undefined ? {} : { endingBefore }),
  };
}

/**
 * A `created`-style filter: an integer (exact) or a hash of `gt`/`gte`/`lt`/`lte`. Returns a predicate on
 * unix seconds, or undefined when the parameter is absent.
 */
export function parseRange(p: Params, key: string): ((value: number) => boolean) | undefined {
  const raw = p.raw(key);
  if (raw === undefined || raw === '') {
    return undefined;
  }
  if (typeof raw === 'string') {
    const exact = p.integer(key);
    return (value) => value === exact;
  }
  const range = p.hash(key, ['gt', 'gte', 'lt', 'lte']);
  const gt = range?.integer('gt');
  const gte = range?.integer('gte');
  const lt = range?.integer('lt');
  const lte = range?.integer('lte');
  return (value) =>
    (gt === undefined || value > gt) &&
    (gte === undefined || value >= gte) &&
    (lt === undefined || value < lt) &&
    (lte === undefined || value <= lte);
}

/** Stripe's list object: `url` is the list path without query; no `total_count`. */
export function listObject<T>(
  url: string,
  page: Page<T>,
  render: (item: T) => unknown,
): Record<string, unknown> {
  return { object: 'list', data: page.items.map(render), has_more: page.hasMore, url };
}
