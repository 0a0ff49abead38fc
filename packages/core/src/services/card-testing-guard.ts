import { RateLimitedError } from '../errors.js';
import type { AccountId } from '../ids.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import { RateLimiter, type RateLimitRefused } from './rate-limiter.js';

/** What every bucket of the card-testing guard starts with (its sweeps touch only these). */
export const DECLINE_BUCKET_PREFIX = 'declines:';

/** Declines per end user in a window before further payments are refused (`PAY_DECLINE_LIMIT`). */
export const DEFAULT_DECLINE_LIMIT = 10;

/** The window the declines are counted in (`PAY_DECLINE_WINDOW_MINUTES`): an hour. */
export const DEFAULT_DECLINE_WINDOW_MS = 60 * 60_000;

/** Whose declines are counted: one end user of one account. */
export interface DeclineSubject {
  /** The caller's account: one end user id in two accounts is two subjects. */
  readonly accountId: AccountId;
  /** The caller's opaque id of its end user (`user_id`). */
  readonly userId: string;
}

/** What {@link CardTestingGuard} is built from; `createPay` wires it from `PAY_DECLINE_*`. */
export interface CardTestingGuardDeps {
  /** Where declines are counted: the rate limiter's table, shared by every API process. */
  readonly store: Store;
  /** The time the window slides on. */
  readonly clock: Clock;
  /** Where a failed sweep is logged (it never fails a request). */
  readonly logger: Logger;
  /** Declines allowed per end user in a window; 0 turns the guard off. */
  readonly limit: number;
  /** The window's length; {@link DEFAULT_DECLINE_WINDOW_MS} by default. */
  readonly windowMs?: number;
}

/**
 * Stops card testing (RELIABILITY.md E7): a caller's end user whose payments were declined `limit`
 * times within the window gets a 429 `rate_limited` with `Retry-After` for the next one, before
 * anything is written or sent to Stripe, until old declines leave the window.
 *
 * Counted per end user, in the rate limiter's shared table, so every API process sees one count. Not by
 * card: a card's fingerprint is known only once Stripe has seen the card, and a test token such as
 * `pm_card_visa` stands for a new card each time. Not by IP address either: pay's caller is the
 * merchant's server, whose address is the same for every shopper; the per-key rate limit bounds it.
 *
 * The check reads and the decline counts afterwards, so concurrent attempts of one end user that all
 * started before the limit was reached each get their answer; the per-key rate limit bounds how many.
 */
export class CardTestingGuard {
  private readonly limiter: RateLimiter | null;
  private readonly windowMinutes: number;

  constructor(deps: CardTestingGuardDeps) {
    this.windowMinutes = Math.round((deps.windowMs ?? DEFAULT_DECLINE_WINDOW_MS) / 60_000);
    this.limiter =
      deps.limit === 0
        ? null
        : new RateLimiter({
            store: deps.store,
            clock: deps.clock,
            logger: deps.logger,
            limit: deps.limit,
            windowMs: deps.windowMs ?? DEFAULT_DECLINE_WINDOW_MS,
            bucketPrefix: DECLINE_BUCKET_PREFIX,
          });
  }

  /** Throws a {@link RateLimitedError} when `subject` has used up its declines in the window. */
  async check(subject: DeclineSubject): Promise<void> {
    const decision = await this.limiter?.peek(bucketOf(subject));
    if (decision !== undefined && !decision.allowed) {
      throw tooManyDeclines(decision, this.windowMinutes);
    }
  }

  /** Counts one declined payment of `subject`. */
  async recordDecline(subject: DeclineSubject): Promise<void> {
    await this.limiter?.check(bucketOf(subject));
  }
}

function bucketOf(subject: DeclineSubject): string {
  // JSON keeps the parts apart whatever characters the caller's user id holds.
  return `${DECLINE_BUCKET_PREFIX}${JSON.stringify([subject.accountId, subject.userId])}`;
}

function tooManyDeclines(decision: RateLimitRefused, windowMinutes: number): RateLimitedError {
  const seconds = decision.retryAfterSeconds;
  return new RateLimitedError(
    `Too many declined payments for this user: ${decision.limit} are allowed in ${windowMinutes} minutes. ` +
      `Retry after ${seconds} second${seconds === 1 ? '' : 's'}.`,
    { context: { limit: decision.limit, retryAfterSeconds: seconds } },
  );
}
