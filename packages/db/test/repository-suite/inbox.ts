import { InternalError, newId, type NewWebhookEvent, type Repositories } from '@pay/core';
import { deferred, seed, unique } from '../support/fixtures.js';
import type { SuiteContext } from './context.js';

const END_OF_TIME = new Date('9999-12-31T00:00:00Z');

function stripeEvent(receivedAt: Date, overrides: Partial<NewWebhookEvent> = {}): NewWebhookEvent {
  const stripeEventId = overrides.stripeEventId ?? unique('evt');
  return {
    stripeEventId,
    type: 'payment_intent.succeeded',
    apiVersion: '2026-10-28.endive',
    livemode: false,
    objectId: unique('pi'),
    payload: JSON.stringify({ id: stripeEventId, object: 'event' }),
    signatureVerified: true,
    stripeCreatedAt: new Date(receivedAt.getTime() - 1_000),
    receivedAt,
    ...overrides,
  };
}

/** Takes every due event out of the way, so a test sees only the events it inserts. */
async function drainDue(repos: Repositories): Promise<void> {
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

export function inboxTests(ctx: SuiteContext): void {
  describe('webhook events', () => {
    it('stores an event once: a redelivery returns the stored row with inserted false', async () => {
      const input = stripeEvent(new Date());
      const first = await ctx.repos().webhookEvents.insert(input);
      expect(first.inserted).toBe(true);
      expect(first.event).toMatchObject({
        stripeEventId: input.stripeEventId,
        status: 'pending',
        attempts: 0,
        lastError: null,
        processedAt: null,
        payload: input.payload,
      });
      expect(first.event.nextAttemptAt).toEqual(input.receivedAt);
      const again = await ctx
        .repos()
        .webhookEvents.insert({ ...input, receivedAt: new Date(), payload: '{}' });
      expect(again).toEqual({ event: first.event, inserted: false });
      expect(await ctx.repos().webhookEvents.findByStripeId(input.stripeEventId)).toEqual(first.event);
    });

    it('stores concurrent deliveries of one event as one row', async () => {
      const input = stripeEvent(new Date());
      const results = await Promise.all([1, 2, 3, 4, 5].map(() => ctx.repos().webhookEvents.insert(input)));
      expect(results.filter((r) => r.inserted)).toHaveLength(1);
      expect(new Set(results.map((r) => r.event.id)).size).toBe(1);
    });

    it('claims due pending and failed events oldest first, and skips the rest', async () => {
      const repos = ctx.repos();
      await drainDue(repos);
      const now = new Date();
      const old = await repos.webhookEvents.insert(stripeEvent(new Date(now.getTime() - 60_000)));
      const recent = await repos.webhookEvents.insert(stripeEvent(new Date(now.getTime() - 30_000)));
      const future = await repos.webhookEvents.insert(stripeEvent(new Date(now.getTime() + 60_000)));
      const retry = await repos.webhookEvents.insert(stripeEvent(new Date(now.getTime() - 50_000)));
      await repos.webhookEvents.markFailed(retry.event.id, {
        error: 'boom',
        nextAttemptAt: new Date(now.getTime() - 10_000),
        dead: false,
      });
      const dead = await repos.webhookEvents.insert(stripeEvent(new Date(now.getTime() - 40_000)));
      await repos.webhookEvents.markFailed(dead.event.id, {
        error: 'gave up',
        nextAttemptAt: now,
        dead: true,
      });

      const claimed = await ctx.db().store.transaction((tx) => tx.webhookEvents.claimDue(now, 10));
      expect(claimed.map((e) => e.id)).toEqual([old.event.id, recent.event.id, retry.event.id]);
      expect(claimed[2]).toMatchObject({ status: 'failed', attempts: 1, lastError: 'boom' });
      expect(claimed.map((e) => e.id)).not.toContain(future.event.id);
      expect(await ctx.db().store.transaction((tx) => tx.webhookEvents.claimDue(now, 2))).toHaveLength(2);
    });

    it('marks due events of unhandled types ignored in one batch, oldest first, and leaves handled and held ones', async () => {
      const repos = ctx.repos();
      await drainDue(repos);
      const now = new Date();
      const at = (ms: number) => new Date(now.getTime() + ms);
      const handled = await repos.webhookEvents.insert(stripeEvent(at(-60_000)));
      const older = await repos.webhookEvents.insert(stripeEvent(at(-50_000), { type: 'customer.created' }));
      const newer = await repos.webhookEvents.insert(stripeEvent(at(-40_000), { type: 'charge.updated' }));
      const notYet = await repos.webhookEvents.insert(stripeEvent(at(60_000), { type: 'charge.updated' }));
      const held = await repos.webhookEvents.insert(stripeEvent(at(-30_000), { type: 'charge.updated' }));
      const handledTypes = ['payment_intent.succeeded'];

      const holding = deferred();
      const release = deferred();
      const holder =
        ctx.db().driver === 'postgres'
          ? ctx.db().store.transaction(async (tx) => {
              await tx.webhookEvents.claimById(held.event.id);
              holding.resolve();
              await release.promise;
            })
          : null;
      if (holder !== null) {
        await holding.promise;
      }
      const first = await repos.webhookEvents.ignoreDueUnhandled(now, handledTypes, 1);
      const rest = await repos.webhookEvents.ignoreDueUnhandled(now, handledTypes, 10);
      release.resolve();
      await holder;

      expect(first.map((e) => e.id)).toEqual([older.event.id]);
      expect(first[0]).toEqual({
        id: older.event.id,
        stripeEventId: older.event.stripeEventId,
        type: 'customer.created',
        stripeCreatedAt: older.event.stripeCreatedAt,
      });
      // On PostgreSQL the row another worker holds is skipped, not waited for; PGlite has one connection.
      expect(rest.map((e) => e.id)).toEqual(
        ctx.db().driver === 'postgres' ? [newer.event.id] : [newer.event.id, held.event.id],
      );
      expect(await repos.webhookEvents.findByStripeId(older.event.stripeEventId)).toMatchObject({
        status: 'ignored',
        processedAt: now,
        attempts: 1,
      });
      for (const untouched of [handled, notYet]) {
        expect(await repos.webhookEvents.findByStripeId(untouched.event.stripeEventId)).toMatchObject({
          status: 'pending',
          attempts: 0,
          processedAt: null,
        });
      }
      await drainDue(repos);
    });

    it('marks events processed, failed and dead, and counts them by status', async () => {
      const repos = ctx.repos();
      const before = await repos.webhookEvents.countByStatus();
      const a = await repos.webhookEvents.insert(stripeEvent(new Date()));
      const b = await repos.webhookEvents.insert(stripeEvent(new Date()));
      const c = await repos.webhookEvents.insert(stripeEvent(new Date()));
      const at = new Date();
      await repos.webhookEvents.markProcessed(a.event.id, at, 'processed');
      const next = new Date(Date.now() + 60_000);
      await repos.webhookEvents.markFailed(b.event.id, {
        error: 'timeout',
        nextAttemptAt: next,
        dead: false,
      });
      await repos.webhookEvents.markFailed(c.event.id, {
        error: 'still failing',
        nextAttemptAt: next,
        dead: true,
      });
      expect(await repos.webhookEvents.findByStripeId(a.event.stripeEventId)).toMatchObject({
        status: 'processed',
        processedAt: at,
        attempts: 1,
      });
      expect(await repos.webhookEvents.findByStripeId(b.event.stripeEventId)).toMatchObject({
        status: 'failed',
        nextAttemptAt: next,
        lastError: 'timeout',
        attempts: 1,
      });
      expect(await repos.webhookEvents.findByStripeId(c.event.stripeEventId)).toMatchObject({
        status: 'dead',
        lastError: 'still failing',
      });
      const after = await repos.webhookEvents.countByStatus();
      expect(Object.keys(after).sort()).toEqual(['dead', 'failed', 'ignored', 'pending', 'processed']);
      expect(after.processed - before.processed).toBe(1);
      expect(after.failed - before.failed).toBe(1);
      expect(after.dead - before.dead).toBe(1);
    });

    it('lets concurrent workers claim disjoint batches (SKIP LOCKED; PGlite serializes them instead)', async () => {
      await drainDue(ctx.repos());
      const now = new Date();
      const ids = new Set<string>();
      for (let i = 0; i < 10; i++) {
        ids.add(
          (await ctx.repos().webhookEvents.insert(stripeEvent(new Date(now.getTime() - 1_000 + i)))).event.id,
        );
      }
      const claimedA = deferred<string[]>();
      const release = deferred();
      const workerA = ctx.db().store.transaction(async (tx) => {
        claimedA.resolve((await tx.webhookEvents.claimDue(now, 4)).map((e) => e.id));
        await release.promise;
      });
      const a = await claimedA.promise;
      const workerB = ctx
        .db()
        .store.transaction(async (tx) => (await tx.webhookEvents.claimDue(now, 10)).map((e) => e.id));
      if (ctx.db().driver === 'postgres') {
        // B does not wait for A: it skips A's locked rows and takes the other six.
        const b = await workerB;
        release.resolve();
        await workerA;
        expect(a).toHaveLength(4);
        expect(b).toHaveLength(6);
        expect(new Set([...a, ...b])).toEqual(ids);
      } else {
        // One connection: B runs after A commits, and A left its events unprocessed.
        release.resolve();
        await workerA;
        expect(new Set(await workerB)).toEqual(ids);
      }
    });

    it('tells when Stripe created the newest event it holds, whatever its status', async () => {
      // Years ahead of every other test's events, so the shared inbox's newest is one of these.
      const older = stripeEvent(new Date(), { stripeCreatedAt: new Date('2100-01-01T00:00:00Z') });
      const newer = stripeEvent(new Date(), { stripeCreatedAt: new Date('2100-01-02T00:00:00Z') });
      const stored = [];
      for (const input of [newer, older]) {
        stored.push((await ctx.repos().webhookEvents.insert(input)).event);
      }
      for (const event of stored) {
        await ctx.repos().webhookEvents.markProcessed(event.id, new Date(), 'processed');
      }
      expect(await ctx.repos().webhookEvents.newestStripeCreatedAt()).toEqual(newer.stripeCreatedAt);
    });
  });

  describe('idempotency keys', () => {
    it('inserts a key locked at `started`, and returns the stored row for the same key', async () => {
      const { account } = await seed(ctx.repos());
      const now = new Date();
      const input = {
        accountId: account.id,
        key: unique('key'),
        requestMethod: 'POST',
        requestPath: '/api/v1/payments',
        paramsHash: 'h1',
        now,
      };
      const first = await ctx.repos().idempotencyKeys.insert(input);
      expect(first.inserted).toBe(true);
      expect(first.key).toMatchObject({
        key: input.key,
        lockedAt: now,
        recoveryPoint: 'started',
        responseStatus: null,
        responseBody: null,
        resourceId: null,
        createdAt: now,
        lastRunAt: now,
      });
      const second = await ctx
        .repos()
        .idempotencyKeys.insert({ ...input, paramsHash: 'h2', now: new Date() });
      expect(second).toEqual({ key: first.key, inserted: false });
      expect(await ctx.repos().idempotencyKeys.find(account.id, input.key)).toEqual(first.key);
      const other = await seed(ctx.repos());
      expect(await ctx.repos().idempotencyKeys.find(other.account.id, input.key)).toBeNull();
    });

    it('takes the lock only when free or stale and while no response is stored', async () => {
      const { account } = await seed(ctx.repos());
      const t0 = new Date('2026-03-01T00:00:00Z');
      const { key } = await ctx.repos().idempotencyKeys.insert({
        accountId: account.id,
        key: unique('key'),
        requestMethod: 'POST',
        requestPath: '/p',
        paramsHash: 'h',
        now: t0,
      });
      const t1 = new Date(t0.getTime() + 10_000);
      expect(await ctx.repos().idempotencyKeys.lock(key.id, t1, new Date(t0.getTime() - 1))).toBeNull(); // held
      const taken = await ctx.repos().idempotencyKeys.lock(key.id, t1, new Date(t0.getTime() + 1)); // stale
      expect(taken).toMatchObject({ lockedAt: t1, lastRunAt: t1 });
      const released = await ctx
        .repos()
        .idempotencyKeys.update(key.id, { lockedAt: null, recoveryPoint: 'payment_created' });
      expect(released).toMatchObject({ lockedAt: null, recoveryPoint: 'payment_created' });
      expect(await ctx.repos().idempotencyKeys.lock(key.id, t1, t0)).toMatchObject({ lockedAt: t1 }); // free
      await ctx
        .repos()
        .idempotencyKeys.update(key.id, { lockedAt: null, responseStatus: 201, recoveryPoint: 'finished' });
      expect(await ctx.repos().idempotencyKeys.lock(key.id, t1, END_OF_TIME)).toBeNull(); // finished
    });

    it('lets exactly one of several concurrent lockers take a stale lock', async () => {
      const { account } = await seed(ctx.repos());
      const t0 = new Date('2026-03-01T00:00:00Z');
      const { key } = await ctx.repos().idempotencyKeys.insert({
        accountId: account.id,
        key: unique('key'),
        requestMethod: 'POST',
        requestPath: '/p',
        paramsHash: 'h',
        now: t0,
      });
      const later = new Date(t0.getTime() + 120_000);
      const results = await Promise.all(
        [1, 2, 3, 4].map(() => ctx.repos().idempotencyKeys.lock(key.id, later, later)),
      );
      // The first locker moves locked_at to `later`, which is not older than `later`: the rest lose.
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    });

    it('stores the response (JSON round trip) and the resource id', async () => {
      const { account } = await seed(ctx.repos());
      const { key } = await ctx.repos().idempotencyKeys.insert({
        accountId: account.id,
        key: unique('key'),
        requestMethod: 'POST',
        requestPath: '/p',
        paramsHash: 'h',
        now: new Date(),
      });
      const body = {
        object: 'payment',
        id: 'pay_x',
        amount: 1500,
        nested: { list: [1, 'two', null, true] },
        text: 'é "quoted"',
      };
      const done = await ctx.repos().idempotencyKeys.update(key.id, {
        responseStatus: 201,
        responseBody: body,
        resourceId: 'pay_x',
        lastRunAt: new Date(),
      });
      expect(done).toMatchObject({ responseStatus: 201, responseBody: body, resourceId: 'pay_x' });
      expect((await ctx.repos().idempotencyKeys.find(account.id, key.key))?.responseBody).toEqual(body);
      expect((await ctx.repos().idempotencyKeys.update(key.id, {})).responseBody).toEqual(body);
      await expect(
        ctx.repos().idempotencyKeys.update(newId('idempotencyKey'), { recoveryPoint: 'x' }),
      ).rejects.toBeInstanceOf(InternalError);
    });

    it('reaps keys created before the cutoff and keeps the rest', async () => {
      const { account } = await seed(ctx.repos());
      const base = new Date('1999-06-01T00:00:00Z');
      const mk = (now: Date) =>
        ctx.repos().idempotencyKeys.insert({
          accountId: account.id,
          key: unique('key'),
          requestMethod: 'POST',
          requestPath: '/p',
          paramsHash: 'h',
          now,
        });
      const old1 = await mk(new Date(base.getTime() - 2 * 86_400_000));
      const old2 = await mk(new Date(base.getTime() - 86_400_000 - 1));
      const fresh = await mk(base);
      expect(
        await ctx.repos().idempotencyKeys.deleteCreatedBefore(new Date(base.getTime() - 86_400_000)),
      ).toBe(2);
      expect(await ctx.repos().idempotencyKeys.find(account.id, old1.key.key)).toBeNull();
      expect(await ctx.repos().idempotencyKeys.find(account.id, old2.key.key)).toBeNull();
      expect(await ctx.repos().idempotencyKeys.find(account.id, fresh.key.key)).not.toBeNull();
    });
  });

  describe('audit log', () => {
    it('appends entries and lists them newest first, per account, in pages', async () => {
      const { account } = await seed(ctx.repos());
      const other = await seed(ctx.repos());
      const first = await ctx.repos().audit.append({
        accountId: account.id,
        actorType: 'api_key',
        actorId: 'key_1',
        action: 'refund.create',
        targetType: 'refund',
        targetId: 'rfnd_1',
        amount: 500,
        currency: 'usd',
        details: { reason: 'duplicate', nested: { ok: true } },
        requestId: 'req_1',
      });
      expect(first).toMatchObject({
        actorType: 'api_key',
        amount: 500,
        currency: 'usd',
        details: { reason: 'duplicate', nested: { ok: true } },
      });
      const second = await ctx.repos().audit.append({
        accountId: account.id,
        actorType: 'cli_operator',
        actorId: 'ops',
        action: 'webhook.replay',
      });
      expect(second).toMatchObject({
        targetType: null,
        amount: null,
        currency: null,
        details: {},
        requestId: null,
      });
      await ctx
        .repos()
        .audit.append({ accountId: other.account.id, actorType: 'system', actorId: 'worker', action: 'x' });
      await ctx.repos().audit.append({
        accountId: null,
        actorType: 'cli_operator',
        actorId: 'ops',
        action: 'account.create',
      });

      const ids = [first.id, second.id].sort().reverse();
      const page = await ctx.repos().audit.list(account.id, { limit: 1 });
      expect(page.data.map((e) => e.id)).toEqual([ids[0]]);
      expect(page.hasMore).toBe(true);
      const rest = await ctx.repos().audit.list(account.id, { limit: 5, startingAfter: ids[0] });
      expect(rest.data.map((e) => e.id)).toEqual([ids[1]]);
      expect(rest.hasMore).toBe(false);
    });
  });
}
