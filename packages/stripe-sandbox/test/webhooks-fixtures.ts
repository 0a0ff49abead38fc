import { createClock, type SandboxClock } from '../src/clock.js';
import type { SandboxEvent, WebhookHub, WebhookHubOptions } from '../src/webhooks/hub.js';
import { createWebhookHub } from '../src/webhooks/index.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhooks-receiver.js';

let counter = 0;

/** A Stripe-shaped event as the API side of the sandbox would publish it. */
export function sandboxEvent(
  type = 'payment_intent.succeeded',
  overrides: Partial<SandboxEvent> = {},
): SandboxEvent {
  counter += 1;
  return {
    id: `evt_unit${String(counter).padStart(20, '0')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: 1767225600,
    data: {
      object: { id: `pi_unit${counter}`, object: 'payment_intent', amount: 2000, status: 'succeeded' },
    },
    livemode: false,
    pending_webhooks: 0,
    request: { id: `req_unit${counter}`, idempotency_key: null },
    type,
    ...overrides,
  };
}

/** 2026-01-01T00:00:00Z: far from the wall clock, so a receiver that ignores the sandbox clock is caught. */
export const VIRTUAL_START_MS = Date.UTC(2026, 0, 1);

/** A hub on a virtual clock, a receiver, and one function that closes both. */
export async function hubHarness(options: Partial<WebhookHubOptions> = {}): Promise<{
  clock: SandboxClock;
  hub: WebhookHub;
  receiver: WebhookReceiver;
  close: () => Promise<void>;
}> {
  const clock = options.clock ?? createClock('virtual', VIRTUAL_START_MS);
  const receiver = await startWebhookReceiver();
  const hub = createWebhookHub({ defaultApiVersion: '2026-10-28.endive', ...options, clock });
  return {
    clock,
    hub,
    receiver,
    close: async () => {
      await hub.close();
      await receiver.close();
    },
  };
}
