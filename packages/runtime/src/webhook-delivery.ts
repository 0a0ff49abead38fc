import { DependencyUnavailableError, isPayError, type WebhookEvent, type WebhookService } from '@pay/core';
import { verifyStripeWebhook, type WebhookRejectionReason } from '@pay/stripe-adapter';

/**
 * Why a webhook delivery was refused: the signature checks of `@pay/stripe-adapter`, or
 * `no_signing_secret` when pay has no secret to check against (a deployment on real Stripe without
 * `STRIPE_WEBHOOK_SECRETS`), which refuses every delivery rather than accept unsigned ones.
 */
export type WebhookRefusalReason = WebhookRejectionReason | 'no_signing_secret';

/** Every {@link WebhookRefusalReason}, for metrics that want each series from the start. */
export const WEBHOOK_REFUSAL_REASONS: readonly WebhookRefusalReason[] = Object.freeze([
  'missing_header',
  'malformed_header',
  'timestamp_too_old',
  'timestamp_in_future',
  'signature_mismatch',
  'invalid_payload',
  'no_signing_secret',
]);

/** A delivery refused before anything was stored; `message` names the failed check, never the payload. */
export interface WebhookRefusal {
  readonly kind: 'rejected';
  readonly reason: WebhookRefusalReason;
  readonly message: string;
}

/** The result of checking a delivery's `Stripe-Signature` (STYLE.md R5: an outcome, not an exception). */
export type WebhookSignatureCheck =
  | {
      readonly kind: 'verified';
      /** The body as signed, decoded as UTF-8: what the inbox stores. */
      readonly payload: string;
      /** Which configured secret signed it: during a rotation, tells when the old one can go. */
      readonly secretIndex: number;
      /** The signature's timestamp. */
      readonly signedAt: Date;
    }
  | WebhookRefusal;

/** What became of a delivery: stored (or found stored already), or refused with nothing stored. */
export type WebhookDelivery =
  | {
      readonly kind: 'accepted';
      /** False for a redelivery of an event the inbox already holds: nothing changed. */
      readonly inserted: boolean;
      readonly event: WebhookEvent;
    }
  | WebhookRefusal;

/** Options of {@link checkWebhookSignature}. */
export interface WebhookSignatureOptions {
  /** How far the signature's time may be from now, either way; Stripe's 300 s by default. */
  readonly toleranceSeconds?: number;
  /** Now, for tests. */
  readonly now?: Date;
}

/**
 * Checks a delivery's signature over its raw bytes against every configured secret (rotation), and its
 * timestamp against the tolerance in both directions. With no secret at all, every delivery is refused.
 */
export function checkWebhookSignature(
  rawBody: Buffer,
  signatureHeader: string | undefined,
  secrets: readonly string[],
  options: WebhookSignatureOptions = {},
): WebhookSignatureCheck {
  if (secrets.length === 0) {
    return {
      kind: 'rejected',
      reason: 'no_signing_secret',
      message:
        'pay has no webhook signing secret configured (STRIPE_WEBHOOK_SECRETS), so it refuses every delivery.',
    };
  }
  const verification = verifyStripeWebhook(rawBody, signatureHeader, secrets, options);
  if (verification.kind === 'rejected') {
    return verification;
  }
  return {
    kind: 'verified',
    payload: rawBody.toString('utf8'),
    secretIndex: verification.secretIndex,
    signedAt: verification.signedAt,
  };
}

/**
 * Stores a verified delivery in the inbox, or passes a refusal on. The answer Stripe gets depends on
 * it: a payload the gateway cannot decode is refused like a bad signature (a 400: retrying cannot
 * help); any other failure is a {@link DependencyUnavailableError}, so the route answers 503 and Stripe
 * delivers again — nothing that is not stored may ever be acknowledged.
 */
export async function receiveWebhookDelivery(
  webhooks: Pick<WebhookService, 'receive'>,
  check: WebhookSignatureCheck,
): Promise<WebhookDelivery> {
  if (check.kind === 'rejected') {
    return check;
  }
  try {
    const { inserted, event } = await webhooks.receive(check.payload);
    return { kind: 'accepted', inserted, event };
  } catch (error) {
    // Decoding happens before any write, and only it raises gateway_unknown_state here.
    if (isPayError(error) && error.code === 'gateway_unknown_state') {
      return {
        kind: 'rejected',
        reason: 'invalid_payload',
        message: 'The signed body is not a Stripe event pay can read.',
      };
    }
    if (isPayError(error) && error.code === 'dependency_unavailable') {
      throw error;
    }
    throw new DependencyUnavailableError('The webhook event could not be stored; deliver it again.', {
      cause: error,
    });
  }
}

/**
 * The webhook route's one call: verification with the signing secrets, then the inbox. Built once by
 * createServices over the secrets of the Stripe pay opened.
 */
export interface WebhookInbox {
  /** Checks a delivery's signature; stores nothing. */
  verify(rawBody: Buffer, signatureHeader: string | undefined): WebhookSignatureCheck;
  /**
   * Verifies a delivery and stores it: `accepted` once its row is committed (or was there already),
   * `rejected` with nothing stored. A failure to store throws DependencyUnavailableError.
   */
  receive(rawBody: Buffer, signatureHeader: string | undefined): Promise<WebhookDelivery>;
}

/** A {@link WebhookInbox} over the webhook service, accepting deliveries signed with any of `secrets`. */
export function createWebhookInbox(deps: {
  readonly webhooks: Pick<WebhookService, 'receive'>;
  readonly secrets: readonly string[];
}): WebhookInbox {
  const verify = (rawBody: Buffer, signatureHeader: string | undefined): WebhookSignatureCheck =>
    checkWebhookSignature(rawBody, signatureHeader, deps.secrets);
  return {
    verify,
    receive: (rawBody, signatureHeader) =>
      receiveWebhookDelivery(deps.webhooks, verify(rawBody, signatureHeader)),
  };
}
