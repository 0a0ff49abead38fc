import type { GatewayIntent } from './gateway.js';
import type { GatewayRefund } from './gateway-events.js';

/** One page of the intents pay created at Stripe in a window. */
export interface ListIntentsInput {
  /** Intents created at or after this. */
  readonly createdAfter: Date;
  /** Intents created before this; no upper bound when omitted. */
  readonly createdBefore?: Date;
  /** The last intent of the previous page: the page after it. */
  readonly startingAfter?: string;
}

/**
 * A page of intents, newest first as Stripe lists them. `nextStartingAfter` is the cursor of the next
 * page (the last intent Stripe listed, which may be one pay skipped), null after the last page.
 */
export interface GatewayIntentPage {
  /** The page's intents that name a pay payment in their metadata; may be empty even when more follow. */
  readonly data: readonly GatewayIntent[];
  /** The cursor for the next page, or null after the last. */
  readonly nextStartingAfter: string | null;
}

/**
 * What reconciliation (`pay reconcile`) asks of Stripe besides the payment and refund calls: every intent
 * of a window that pay's metadata names (so that one pay has no row for is found), and every refund of an
 * intent (so that one made in Stripe's dashboard and never announced is found). Lists, not Stripe's search
 * API: search is eventually consistent. Errors follow {@link PaymentGateway}'s contract. Every call is a
 * network call: never make one inside a transaction.
 */
export interface ReconcileGateway {
  /** One page of the intents created in the window whose metadata names a pay payment (others are skipped). */
  listIntents(input: ListIntentsInput): Promise<GatewayIntentPage>;
  /** Every refund of the intent, whoever made it, as Stripe holds it now. */
  listRefundsOfIntent(stripePaymentIntentId: string): Promise<readonly GatewayRefund[]>;
}
