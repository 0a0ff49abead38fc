/** A page request for list endpoints: newest first, `startingAfter` is the last id of the previous page. */
export interface PageRequest {
  readonly limit: number;
  readonly startingAfter?: string | undefined;
}

/** One page of a list, Stripe-style: `hasMore` says whether another page follows. */
export interface Page<T> {
  readonly data: readonly T[];
  readonly hasMore: boolean;
}
