import { resourceMissing, InvalidRequestError } from '../errors.js';

/** Pagination parameters of a list request (SANDBOX.md §3.7), already validated. */
export interface PageRequest {
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
}

export interface Page<T> {
  items: T[];
  hasMore: boolean;
}

/**
 * One kind of object of one account, in creation order. Stored records are replaced, never mutated, so an
 * event or a stored idempotent response can keep a reference to a record's object as a snapshot.
 *
 * Lists are newest first. `created` comes from a clock that never goes back, so insertion order is
 * chronological order and ties are broken by insertion, as SANDBOX.md §3.7 decides.
 */
export class Collection<T> {
  private readonly items: (T | undefined)[] = [];
  private readonly index = new Map<string, number>();

  constructor(
    /** The noun of `No such <noun>: '<id>'` for a bad cursor. */
    private readonly noun: string,
  ) {}

  get size(): number {
    return this.index.size;
  }

  get(id: string): T | undefined {
    const at = this.index.get(id);
    return at === undefined ? undefined : this.items[at];
  }

  insert(id: string, record: T): void {
    this.index.set(id, this.items.length);
    this.items.push(record);
  }

  /** Replaces the record of an existing id, keeping its place in the order. */
  replace(id: string, record: T): void {
    const at = this.index.get(id);
    if (at === undefined) {
      throw new Error(`replace of unknown ${this.noun} ${id}`);
    }
    this.items[at] = record;
  }

  /** Every record, oldest first. */
  *values(): IterableIterator<T> {
    for (const item of this.items) {
      if (item !== undefined) {
        yield item;
      }
    }
  }

  /** One page of the records matching `filter`, newest first. */
  page(request: PageRequest, filter: (record: T) => boolean = () => true): Page<T> {
    const { limit, startingAfter, endingBefore } = request;
    if (startingAfter !== undefined && endingBefore !== undefined) {
      throw new InvalidRequestError(
        'You may only specify one of these parameters: ending_before, starting_after.',
        {
          param: 'ending_before',
        },
      );
    }
    const cursorIndex = (id: string, param: string): number => {
      const at = this.index.get(id);
      if (at === undefined) {
        throw resourceMissing(this.noun, id, param);
      }
      return at;
    };
    const found: T[] = [];
    if (endingBefore !== undefined) {
      // The page immediately newer than the cursor: walk up from it, keep the `limit` closest, and show
      // them newest first like every page (the SDK reverses pages when it iterates backwards).
      for (let i = cursorIndex(endingBefore, 'ending_before') + 1; i < this.items.length; i += 1) {
        const item = this.items[i];
        if (item !== undefined && filter(item)) {
          found.push(item);
          if (found.length > limit) {
            break;
          }
        }
      }
      const hasMore = found.length > limit;
      return { items: found.slice(0, limit).reverse(), hasMore };
    }
    const start =
      startingAfter === undefined ? this.items.length - 1 : cursorIndex(startingAfter, 'starting_after') - 1;
    for (let i = start; i >= 0; i -= 1) {
      const item = this.items[i];
      if (item !== undefined && filter(item)) {
        found.push(item);
        if (found.length > limit) {
          break;
        }
      }
    }
    return { items: found.slice(0, limit), hasMore: found.length > limit };
  }
}
