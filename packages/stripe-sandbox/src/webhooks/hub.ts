import type { SandboxClock } from '../clock.js';

/*
 * The seam between the API side of the sandbox (objects, events) and webhook delivery. The API side
 * stores every event it creates and hands it to `publish`; the hub owns endpoints, signing, delivery,
 * retries on the virtual clock and webhook faults. Account ids are the sandbox's per-secret-key
 * accounts (`acct_…`).
 */

/** An event as Stripe renders it (SANDBOX.md §4.7). `data.object` is a snapshot that never changes. */
export interface SandboxEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: false;
  /** Rendered at read time from {@link WebhookHub.pendingWebhooks}. */
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

/** `POST /v1/webhook_endpoints` parameters, decoded. */
export interface WebhookEndpointInput {
  url: string;
  enabled_events: string[];
  api_version?: string;
  description?: string;
  metadata?: Record<string, string>;
}

export interface WebhookEndpointUpdate {
  url?: string;
  enabled_events?: string[];
  disabled?: boolean;
  description?: string;
  metadata?: Record<string, string>;
}

/** Stripe's `webhook_endpoint` object; `secret` only on creation, as Stripe does. */
export interface WebhookEndpointObject {
  id: string;
  object: 'webhook_endpoint';
  api_version: string | null;
  application: null;
  created: number;
  description: string | null;
  enabled_events: string[];
  livemode: false;
  metadata: Record<string, string>;
  secret?: string;
  status: 'enabled' | 'disabled';
  url: string;
}

/** One delivery attempt, for `GET /_sandbox/webhooks/deliveries` and assertions. */
export interface DeliveryAttempt {
  eventId: string;
  eventType: string;
  endpointId: string;
  attempt: number;
  /** Virtual-clock time the attempt was due and was made (ms). */
  scheduledAt: number;
  sentAt: number;
  /** HTTP status, or null for a connection error or a timeout. */
  responseStatus: number | null;
  error: string | null;
  signatureHeader: string;
  succeeded: boolean;
}

/** Webhook faults (SANDBOX.md §6.4). `times` bounds how many deliveries a fault affects. */
export type WebhookFault =
  | { kind: 'webhook_duplicate'; count: number; times?: number }
  | { kind: 'webhook_shuffle'; times?: number }
  | { kind: 'webhook_delay'; seconds: number; times?: number }
  | { kind: 'webhook_stale_signature'; age_seconds: number; times?: number }
  | { kind: 'webhook_bad_signature'; times?: number }
  | { kind: 'webhook_endpoint_down'; status?: number; timeout?: boolean; times?: number };

export interface FlushResult {
  attempted: number;
  succeeded: number;
  failed: number;
}

/** An endpoint configured at start-up (the embedded default points one at pay's webhook route). */
export interface StaticWebhookEndpoint {
  url: string;
  secret: string;
  enabledEvents?: string[];
  /** Only this account's events; every account's when omitted. */
  account?: string;
}

export interface WebhookHubOptions {
  clock: SandboxClock;
  /** `fast` (+0, 1 s, 2 s, 4 s) by default; `test` and `live` as SANDBOX.md §5.4. */
  retrySchedule?: 'fast' | 'test' | 'live';
  /** Per-attempt timeout; 30 s by default. */
  timeoutMs?: number;
  /** Concurrent deliveries per endpoint; 1 by default. */
  concurrency?: number;
  /** Deliver due attempts automatically (a timer on a real clock, on advance on a virtual one); true by default. */
  autoDeliver?: boolean;
  staticEndpoints?: StaticWebhookEndpoint[];
  /** The API version events are rendered in when the endpoint names none. */
  defaultApiVersion: string;
}

export interface WebhookHub {
  createEndpoint(account: string, input: WebhookEndpointInput): WebhookEndpointObject;
  retrieveEndpoint(account: string, id: string): WebhookEndpointObject | null;
  updateEndpoint(account: string, id: string, update: WebhookEndpointUpdate): WebhookEndpointObject | null;
  deleteEndpoint(
    account: string,
    id: string,
  ): { id: string; object: 'webhook_endpoint'; deleted: true } | null;
  listEndpoints(account: string): WebhookEndpointObject[];
  /** Schedules the event's delivery to every matching endpoint of its account (and static ones). */
  publish(account: string, event: SandboxEvent): void;
  /** Endpoints that have not yet answered 2xx for this event. */
  pendingWebhooks(account: string, eventId: string): number;
  /** For `GET /v1/events?delivery_success=`: true once every endpoint answered 2xx, false once one failed, null before any attempt or without endpoints. */
  deliverySucceeded(account: string, eventId: string): boolean | null;
  /** Runs every attempt due now on the clock, and waits for them. */
  flush(): Promise<FlushResult>;
  deliveries(filter?: { event?: string; endpoint?: string }): DeliveryAttempt[];
  /** Delivers the event again to one endpoint, or to every matching one. */
  resend(account: string, eventId: string, endpointId?: string): Promise<FlushResult>;
  addFault(fault: WebhookFault): void;
  clearFaults(): void;
  /** Drops endpoints made through the API, deliveries and faults; static endpoints stay. */
  reset(): void;
  close(): Promise<void>;
}
