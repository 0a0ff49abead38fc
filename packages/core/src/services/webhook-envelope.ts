/**
 * The few fields every Stripe event has, read without understanding its object: enough to store an
 * event pay cannot decode (a type or status this version does not know) under its id, so that Stripe
 * stops redelivering it and an operator sees it, instead of refusing it for days of retries.
 */
export interface WebhookEnvelope {
  readonly stripeEventId: string;
  readonly type: string;
  readonly apiVersion: string | null;
  readonly livemode: boolean;
  readonly created: Date;
  readonly objectId: string | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The envelope of a Stripe event's JSON, or null when the bytes are not even that. */
export function readWebhookEnvelope(payload: string): WebhookEnvelope | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!isRecord(parsed)) {
    return null;
  }
  const { id, type, api_version: apiVersion, livemode, created, data } = parsed;
  if (
    typeof id !== 'string' ||
    !/^evt_[A-Za-z0-9_]+$/.test(id) ||
    typeof type !== 'string' ||
    type === '' ||
    typeof livemode !== 'boolean' ||
    typeof created !== 'number' ||
    !Number.isSafeInteger(created) ||
    created < 0
  ) {
    return null;
  }
  const object = isRecord(data) ? data.object : undefined;
  const objectId = isRecord(object) && typeof object.id === 'string' ? object.id : null;
  return {
    stripeEventId: id,
    type,
    apiVersion: typeof apiVersion === 'string' ? apiVersion : null,
    livemode,
    created: new Date(created * 1000),
    objectId,
  };
}
