import { type NewWebhookEvent, type Repositories, type WebhookEventId } from '@pay/core';
import { deferred, unique } from '../support/fixtures.js';
import type { SuiteContext } from './context.js';

const END_OF_TIME = new Date('9999-12-31T00:00:00Z');

function stripeEvent(receivedAt: Date, overrides: Partial<NewWebhookEvent> = {}): NewWebhookEvent {
  const stripeEventId = overrides.stripeEventId ?? unique('evt');
  return {
    stripeEventId,
    type: 'charge.refunded',
    apiVersion: '2026-10-28.endive',
    livemode: false,
    objectId: unique('ch'),
    payload: JSON.stringify({ id: stripeEventId, object: 'event' }),
    signatureVerified: true,
    stripeCreatedAt: new Date(receivedAt.getTime() - 1_000),
    receivedAt,
    ...overrides,
  };
}

/** Marks every waiting event ignored, so a test sees only the events it inserts. */
async function settleAll(repos: Repositories): Promise<void> {
  for (;;) {
    const due = await repos.webhookEvents.claimDue(END_OF_TIME, 500);
    if (due.length === 0) {
      return;
    }
    for (const event of due) {
      await repos.webhookEvents.markProcessed(event.id, new Date(), 'ignored');
    }
  }
}

/** The repository methods the webhook worker, `pay webhook-status` and `pay webhooks replay` use. */
export function webhookWorkerTests(ctx: SuiteContext): void {
  describe('webhook events: worker, status and replay', () => {
    it('claims one waiting event by id whenever due, and never a processed one or one another worker holds', async () => {
      const repos = ctx.repos();
      const later = new Date(Date.now() + 3_600_000);
      const { event } = await repos.webhookEvents.insert(stripeEvent(new Date()));
      await repos.webhookEvents.defer(event.id, later);
      expect(await repos.webhookEvents.findByStripeId(event.stripeEventId)).toMatchObject({
        status: 'pending',
        attempts: 0,
        nextAttemptAt: later,
      });
      // Deferred: not due for claimDue, but the worker that deferred it takes it back by id.
      expect(
        (await ctx.db().store.transaction((tx) => tx.webhookEvents.claimDue(new Date(), 500))).map(
          (e) => e.id,
        ),
      ).not.toContain(event.id);
      expect(await ctx.db().store.transaction((tx) => tx.webhookEvents.claimById(event.id))).toMatchObject({
        id: event.id,
      });

      if (ctx.db().driver === 'postgres') {
        const held = deferred();
        const release = deferred();
        const holder = ctx.db().store.transaction(async (tx) => {
          await tx.webhookEvents.claimById(event.id);
          held.resolve();
          await release.promise;
        });
        await held.promise;
        expect(await ctx.db().store.transaction((tx) => tx.webhookEvents.claimById(event.id))).toBeNull();
        release.resolve();
        await holder;
      }

      await repos.webhookEvents.markProcessed(event.id, new Date(), 'processed');
      expect(await ctx.db().store.transaction((tx) => tx.webhookEvents.claimById(event.id))).toBeNull();
      expect(
        await ctx
          .db()
          .store.transaction((tx) => tx.webhookEvents.claimById('whevt_unknown' as WebhookEventId)),
      ).toBeNull();
    });

    it('never lets two concurrent workers claim the same event', async () => {
      await settleAll(ctx.repos());
      const now = new Date();
      const inserted = new Set<string>();
      for (let i = 0; i < 24; i++) {
        inserted.add(
          (await ctx.repos().webhookEvents.insert(stripeEvent(new Date(now.getTime() - 1_000 + i)))).event.id,
        );
      }
      const claims: string[] = [];
      const worker = async () => {
        for (;;) {
          const id = await ctx.db().store.transaction(async (tx) => {
            const [event] = await tx.webhookEvents.claimDue(now, 1);
            if (event === undefined) {
              return null;
            }
            await tx.webhookEvents.markProcessed(event.id, new Date(), 'processed');
            return event.id;
          });
          if (id === null) {
            return;
          }
          claims.push(id);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      expect(claims).toHaveLength(inserted.size);
      expect(new Set(claims)).toEqual(inserted);
    });

    it('lists one status newest first in pages, and finds the pending event Stripe created first', async () => {
      const repos = ctx.repos();
      await settleAll(repos);
      expect(await repos.webhookEvents.oldestPending()).toBeNull();
      const base = Date.now();
      const a = await repos.webhookEvents.insert(
        stripeEvent(new Date(base), { stripeCreatedAt: new Date(base - 5_000) }),
      );
      const b = await repos.webhookEvents.insert(
        stripeEvent(new Date(base + 1), { stripeCreatedAt: new Date(base - 9_000) }),
      );
      const c = await repos.webhookEvents.insert(stripeEvent(new Date(base + 2)));
      await repos.webhookEvents.markFailed(b.event.id, {
        error: 'boom',
        nextAttemptAt: new Date(base + 60_000),
        dead: false,
      });
      // b is older but failed: the oldest *pending* is a.
      expect((await repos.webhookEvents.oldestPending())?.id).toBe(a.event.id);

      const first = await repos.webhookEvents.listByStatus('pending', { limit: 1 });
      expect(first.data.map((e) => e.id)).toEqual([c.event.id]);
      expect(first.hasMore).toBe(true);
      const second = await repos.webhookEvents.listByStatus('pending', {
        limit: 5,
        startingAfter: c.event.id,
      });
      expect(second.data.map((e) => e.id)).toEqual([a.event.id]);
      expect(second.hasMore).toBe(false);
      expect(
        (await repos.webhookEvents.listByStatus('failed', { limit: 100 })).data.map((e) => e.id),
      ).toContain(b.event.id);
    });

    it('requeues one event (attempts back to 0, last error kept) and every dead one', async () => {
      const repos = ctx.repos();
      const now = new Date();
      const processed = await repos.webhookEvents.insert(stripeEvent(now));
      await repos.webhookEvents.markProcessed(processed.event.id, now, 'processed');
      const deadOnes = [];
      for (let i = 0; i < 3; i++) {
        const { event } = await repos.webhookEvents.insert(stripeEvent(now));
        await repos.webhookEvents.markFailed(event.id, {
          error: `poison ${i}`,
          nextAttemptAt: now,
          dead: true,
        });
        deadOnes.push(event);
      }
      const at = new Date(now.getTime() + 5_000);
      expect(await repos.webhookEvents.requeue(processed.event.id, at)).toMatchObject({
        status: 'pending',
        attempts: 0,
        nextAttemptAt: at,
        processedAt: null,
      });
      expect(await repos.webhookEvents.requeue('whevt_unknown' as WebhookEventId, at)).toBeNull();

      const before = await repos.webhookEvents.countByStatus();
      expect(before.dead).toBeGreaterThanOrEqual(3);
      expect(await repos.webhookEvents.requeueDead(at)).toBe(before.dead);
      expect((await repos.webhookEvents.countByStatus()).dead).toBe(0);
      for (const [i, event] of deadOnes.entries()) {
        expect(await repos.webhookEvents.findByStripeId(event.stripeEventId)).toMatchObject({
          status: 'pending',
          attempts: 0,
          lastError: `poison ${i}`,
          nextAttemptAt: at,
        });
      }
    });
  });
}
