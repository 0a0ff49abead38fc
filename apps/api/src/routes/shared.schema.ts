import { DEFAULT_PAGE_LIMIT, ID_PREFIXES, isId, MAX_PAGE_LIMIT, type Id, type IdKind } from '@pay/core';
import { z } from 'zod';

/** A pay id of one kind, typed as such once parsed. The message never repeats the value sent. */
export function zId<K extends IdKind>(kind: K): z.ZodType<Id<K>, string> {
  return z.string().refine((value): value is Id<K> => isId(kind, value), {
    message: `expected a ${kind} id (${ID_PREFIXES[kind]}_…)`,
  });
}

/** `?limit=`: an integer from 1 to 100 written plainly (no sign, exponent or leading zero); 10 when absent. */
export const ZPageLimit = z
  .string()
  .regex(/^[1-9]\d*$/, `expected an integer from 1 to ${MAX_PAGE_LIMIT}`)
  .transform(Number)
  .refine((n) => n <= MAX_PAGE_LIMIT, `expected an integer from 1 to ${MAX_PAGE_LIMIT}`)
  .default(DEFAULT_PAGE_LIMIT)
  // The parse above works on the query string's text, which JSON Schema cannot say; this is what it
  // accepts, for the OpenAPI document (whose builder drops the string-only `pattern` under it).
  .meta({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_LIMIT,
    description: `How many objects to return, from 1 to ${MAX_PAGE_LIMIT}.`,
  });

/** Every list answer (DESIGN.md §7), Stripe's shape. */
export interface TListResponse<T> {
  readonly object: 'list';
  readonly data: readonly T[];
  readonly has_more: boolean;
}

/** The schema of a list answer whose items are `item`: the truth {@link TListResponse} tells. */
export function zListResponse<T extends z.ZodType>(item: T) {
  return z.object({ object: z.literal('list'), data: z.array(item), has_more: z.boolean() });
}

/** The list answer of a page of core objects. */
export function toListResponse<T, R>(
  page: { readonly data: readonly T[]; readonly hasMore: boolean },
  present: (item: T) => R,
): TListResponse<R> {
  return { object: 'list', data: page.data.map(present), has_more: page.hasMore };
}
