/** A page request for list endpoints: newest first, `startingAfter` is the last id of the previous page. */
export interface PageRequest {
  /**
   * How many items at most: 1 to {@link MAX_PAGE_LIMIT}, checked by the services ({@link DEFAULT_PAGE_LIMIT}
   * when the caller gives none).
   */
  readonly limit: number;
  /** The id of the last item of the previous page; absent for the first page. */
  readonly startingAfter?: string | undefined;
}

/** One page of a list, Stripe-style: `hasMore` says whether another page follows. */
export interface Page<T> {
  /** The items, newest first, at most `limit` of them. */
  readonly data: readonly T[];
  /** True when another page follows: ask again with `startingAfter` set to the last item's id. */
  readonly hasMore: boolean;
}
