import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hubHarness, sandboxEvent } from '../../test/webhooks-fixtures.js';
import { startWebhookReceiver } from '../../test/webhooks-receiver.js';
import { WebhookResendError } from './create-webhook-hub.js';

type Harness = Awaited<ReturnType<typeof hubHarness>>;

describe('webhook hub: resend, reset, close and failure modes', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('resends an event to one endpoint, or to every matching one, as single attempts', async () => {
    h = await hubHarness({ retrySchedule: 'test' });
    const other = await startWebhookReceiver();
    try {
      const a = h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
      h.hub.createEndpoint('acct_a', { url: other.url, enabled_events: ['*'] });
      h.receiver.reply(500);
      const event = sandboxEvent();
      h.hub.publish('acct_a', event);
      await h.hub.flush();
      expect(h.hub.pendingWebhooks('acct_a', event.id)).toBe(1);

      // The resend answers 2xx, so the endpoint no longer owes the event, hours before its retry.
      expect(await h.hub.resend('acct_a', event.id, a.id)).toEqual({ attempted: 1, succeeded: 1, failed: 0 });
      expect([
        h.hub.pendingWebhooks('acct_a', event.id),
        h.hub.deliverySucceeded('acct_a', event.id),
      ]).toEqual([0, true]);

      expect(await h.hub.resend('acct_a', event.id)).toEqual({ attempted: 2, succeeded: 2, failed: 0 });
      expect(h.receiver.received).toHaveLength(3);
      expect(other.received).toHaveLength(2);
    } finally {
      await other.close();
    }
  });

  it('refuses to resend an unknown event, or to an endpoint of another account', async () => {
    h = await hubHarness();
    const theirs = h.hub.createEndpoint('acct_b', { url: h.receiver.url, enabled_events: ['*'] });
    const event = sandboxEvent();
    h.hub.publish('acct_a', event);
    await expect(h.hub.resend('acct_a', 'evt_missing')).rejects.toMatchObject({
      name: 'WebhookResendError',
      param: 'event',
    });
    await expect(h.hub.resend('acct_b', event.id)).rejects.toBeInstanceOf(WebhookResendError);
    await expect(h.hub.resend('acct_a', event.id, theirs.id)).rejects.toMatchObject({ param: 'endpoint' });
  });

  it('reset drops API endpoints, pending retries, the log and faults; static endpoints stay', async () => {
    const fixed = await startWebhookReceiver();
    try {
      h = await hubHarness({ staticEndpoints: [{ url: fixed.url, secret: 'whsec_fixed' }] });
      const made = h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
      h.receiver.setFallback(500);
      const before = sandboxEvent();
      h.hub.publish('acct_a', before);
      await h.hub.flush();
      h.hub.addFault({ kind: 'webhook_endpoint_down', status: 500 });

      h.hub.reset();
      expect(h.hub.listEndpoints('acct_a')).toEqual([]);
      expect(h.hub.retrieveEndpoint('acct_a', made.id)).toBeNull();
      expect(h.hub.deliveries()).toEqual([]);
      expect(h.hub.pendingWebhooks('acct_a', before.id)).toBe(0);
      h.clock.advance(60);
      await h.hub.flush();
      expect(h.receiver.received).toHaveLength(1);

      const after = sandboxEvent();
      h.hub.publish('acct_a', after);
      await h.hub.flush();
      expect(h.hub.deliveries().map((a) => [a.eventId, a.endpointId, a.responseStatus])).toEqual([
        [after.id, 'we_static_1', 200],
      ]);
    } finally {
      await fixed.close();
    }
  });

  it('close aborts a delivery in flight, stops retries and ignores later events', async () => {
    h = await hubHarness({ retrySchedule: 'fast' });
    h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
    h.receiver.setFallback('hang');
    h.hub.publish('acct_a', sandboxEvent());
    await h.receiver.waitFor(1);
    const started = Date.now();
    await h.hub.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(h.hub.deliveries()).toEqual([
      expect.objectContaining({ responseStatus: null, error: 'the webhook hub is closed' }),
    ]);
    h.clock.advance(60);
    h.hub.publish('acct_a', sandboxEvent());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.receiver.received).toHaveLength(1);
    expect(await h.hub.flush()).toEqual({ attempted: 0, succeeded: 0, failed: 0 });
  });

  it('fails an attempt that gets no answer within timeoutMs, and retries it', async () => {
    h = await hubHarness({ timeoutMs: 200 });
    h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
    h.receiver.reply('hang');
    const event = sandboxEvent();
    h.hub.publish('acct_a', event);
    await h.hub.flush();
    expect(h.hub.deliveries()).toEqual([
      expect.objectContaining({ responseStatus: null, error: 'timeout after 200 ms', succeeded: false }),
    ]);
    h.clock.advance(1);
    await h.hub.flush();
    expect(h.hub.deliverySucceeded('acct_a', event.id)).toBe(true);
  });

  it('counts a redirect, a 4xx and a refused connection as failures', async () => {
    const redirecting = http.createServer((_req, res) =>
      res.writeHead(302, { Location: '/elsewhere' }).end(),
    );
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    try {
      h = await hubHarness();
      h.receiver.reply(410);
      const urls = [
        `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/hook`,
        h.receiver.url,
        `http://127.0.0.1:${closedPort}/hook`,
      ];
      const ids = urls.map((url) => h.hub.createEndpoint('acct_a', { url, enabled_events: ['*'] }).id);
      h.hub.publish('acct_a', sandboxEvent());
      await h.hub.flush();
      const byEndpoint = ids.map((id) => h.hub.deliveries({ endpoint: id })[0]);
      expect(byEndpoint.map((a) => [a?.responseStatus, a?.succeeded])).toEqual([
        [302, false],
        [410, false],
        [null, false],
      ]);
      expect(byEndpoint[2]?.error).toMatch(/ECONNREFUSED/);
    } finally {
      redirecting.closeAllConnections();
      await new Promise((resolve) => redirecting.close(resolve));
    }
  });
  it('re-sends on a fresh connection when the receiver dropped the kept-alive one, as the same attempt', async () => {
    // A receiver that serves one request per connection and then drops it without answering the next,
    // as a server whose keep-alive timeout just expired does.
    const served = new WeakSet<object>();
    const bodies: string[] = [];
    const server = http.createServer((req, res) => {
      if (served.has(req.socket)) {
        req.socket.destroy();
        return;
      }
      served.add(req.socket);
      req.on('data', (chunk: Buffer) => bodies.push(chunk.toString('utf8')));
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      h = await hubHarness();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      h.hub.createEndpoint('acct_a', { url, enabled_events: ['*'] });
      h.hub.publish('acct_a', sandboxEvent());
      await h.hub.flush();
      h.hub.publish('acct_a', sandboxEvent());
      await h.hub.flush();
      expect(h.hub.deliveries().map((a) => [a.attempt, a.responseStatus])).toEqual([
        [1, 200],
        [1, 200],
      ]);
      expect(bodies).toHaveLength(2);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
