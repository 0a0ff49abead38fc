import type { SandboxClock } from '../clock.js';
import type {
  StaticWebhookEndpoint,
  WebhookEndpointInput,
  WebhookEndpointObject,
  WebhookEndpointUpdate,
} from './hub.js';
import { generateWebhookSecret, randomBase62 } from './signing.js';

/** An endpoint as the hub keeps it: API-made ones belong to one account, static ones maybe to none. */
export interface EndpointRecord {
  readonly id: string;
  /** null: a static endpoint that receives every account's events. */
  readonly account: string | null;
  readonly isStatic: boolean;
  readonly secret: string;
  readonly created: number;
  url: string;
  enabledEvents: string[];
  apiVersion: string | null;
  description: string | null;
  metadata: Record<string, string>;
  status: 'enabled' | 'disabled';
}

/** Whether an endpoint subscribed to `type`: Stripe knows only exact names and the `*` wildcard. */
export function endpointMatches(endpoint: EndpointRecord, type: string): boolean {
  return endpoint.enabledEvents.includes('*') || endpoint.enabledEvents.includes(type);
}

/**
 * Webhook endpoints: those made through `/v1/webhook_endpoints`, per account, and those configured at
 * start-up. Static endpoints survive `reset()` and are not listed through the API (Stripe has no
 * such thing), but they receive deliveries, appear in the delivery log and can be named in `resend`.
 */
export class EndpointRegistry {
  // Insertion order is creation order, which is the delivery order when an event has several targets.
  private readonly byId = new Map<string, EndpointRecord>();
  private readonly statics: EndpointRecord[];

  constructor(
    private readonly clock: SandboxClock,
    staticEndpoints: readonly StaticWebhookEndpoint[],
  ) {
    this.statics = staticEndpoints.map((config, index) => ({
      id: `we_static_${index + 1}`,
      account: config.account ?? null,
      isStatic: true,
      secret: config.secret,
      created: clock.nowSeconds(),
      url: config.url,
      enabledEvents: [...(config.enabledEvents ?? ['*'])],
      apiVersion: null,
      description: null,
      metadata: {},
      status: 'enabled',
    }));
  }

  create(account: string, input: WebhookEndpointInput): WebhookEndpointObject {
    const record: EndpointRecord = {
      id: `we_${randomBase62(24)}`,
      account,
      isStatic: false,
      secret: generateWebhookSecret(),
      created: this.clock.nowSeconds(),
      url: input.url,
      enabledEvents: [...input.enabled_events],
      apiVersion: input.api_version ?? null,
      description: input.description || null,
      metadata: { ...(input.metadata ?? {}) },
      status: 'enabled',
    };
    this.byId.set(record.id, record);
    // Stripe returns the secret only in the creation response.
    return { ...toEndpointObject(record), secret: record.secret };
  }

  retrieve(account: string, id: string): WebhookEndpointObject | null {
    const record = this.ownedBy(account, id);
    return record ? toEndpointObject(record) : null;
  }

  update(account: string, id: string, update: WebhookEndpointUpdate): WebhookEndpointObject | null {
    const record = this.ownedBy(account, id);
    if (!record) {
      return null;
    }
    if (update.url !== undefined) {
      record.url = update.url;
    }
    if (update.enabled_events !== undefined) {
      record.enabledEvents = [...update.enabled_events];
    }
    if (update.disabled !== undefined) {
      record.status = update.disabled ? 'disabled' : 'enabled';
    }
    if (update.description !== undefined) {
      // Stripe's wire format unsets a field with an empty string.
      record.description = update.description || null;
    }
    if (update.metadata !== undefined) {
      record.metadata = mergeMetadata(record.metadata, update.metadata);
    }
    return toEndpointObject(record);
  }

  delete(account: string, id: string): { id: string; object: 'webhook_endpoint'; deleted: true } | null {
    const record = this.ownedBy(account, id);
    if (!record) {
      return null;
    }
    this.byId.delete(id);
    return { id, object: 'webhook_endpoint', deleted: true };
  }

  /** The account's API endpoints, newest first, as Stripe lists them. */
  list(account: string): WebhookEndpointObject[] {
    const out: WebhookEndpointObject[] = [];
    for (const record of this.byId.values()) {
      if (record.account === account) {
        out.push(toEndpointObject(record));
      }
    }
    return out.reverse();
  }

  /** Enabled endpoints that should receive an event of `type` from `account`, in creation order. */
  targets(account: string, type: string): EndpointRecord[] {
    const out: EndpointRecord[] = [];
    for (const record of this.byId.values()) {
      if (record.account === account && record.status === 'enabled' && endpointMatches(record, type)) {
        out.push(record);
      }
    }
    for (const record of this.statics) {
      if ((record.account === null || record.account === account) && endpointMatches(record, type)) {
        out.push(record);
      }
    }
    return out;
  }

  /** An endpoint that may still be delivered to by `account`'s events: existing, its own or static. */
  find(account: string, id: string): EndpointRecord | undefined {
    const record = this.byId.get(id) ?? this.statics.find((s) => s.id === id);
    if (!record || (record.account !== null && record.account !== account)) {
      return undefined;
    }
    return record;
  }

  /** The current record for an id, or undefined once deleted (or dropped by a reset). */
  get(id: string): EndpointRecord | undefined {
    return this.byId.get(id) ?? this.statics.find((s) => s.id === id);
  }

  /** Drops the endpoints made through the API; static ones stay. */
  reset(): void {
    this.byId.clear();
  }

  private ownedBy(account: string, id: string): EndpointRecord | undefined {
    const record = this.byId.get(id);
    return record && record.account === account ? record : undefined;
  }
}

function mergeMetadata(
  current: Record<string, string>,
  update: Record<string, string>,
): Record<string, string> {
  const next = { ...current };
  for (const [key, value] of Object.entries(update)) {
    // An empty value deletes the key (Stripe's MetadataParam).
    if (value === '') {
      delete next[key];
    } else {
      next[key] = value;
    }
  }
  return next;
}

function toEndpointObject(record: EndpointRecord): WebhookEndpointObject {
  return {
    id: record.id,
    object: 'webhook_endpoint',
    api_version: record.apiVersion,
    application: null,
    created: record.created,
    description: record.description,
    enabled_events: [...record.enabledEvents],
    livemode: false,
    metadata: { ...record.metadata },
    status: record.status,
    url: record.url,
  };
}
