import fc from 'fast-check';
import { createMemoryStore, type MemoryStore } from '../../test/memory/memory-store.js';
import type { Account } from '../domain/entities.js';
import { IdempotencyKeyInUseError, IdempotencyKeyReusedError } from '../errors.js';
import {
  DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS,
  IDEMPOTENCY_KEY_TTL_MS,
  canonicalJson,
  hashIdempotentRequest,
  startIdempotentRequest,
} from './idempotency.js';
import type { IdempotentRequest } from './payment-results.js';

describe('canonicalJson and hashIdempotentRequest', () => {
  it('hashes objects alike whatever the order of their keys, at every depth', async () => {
    const a = { amount: 1, nested: { x: [1, { b: 2, a: 1 }], y: null }, currency: 'usd' };
    const b = { currency: 'usd', nested: { y: null, x: [1, { a: 1, b: 2 }] }, amount: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    const request = { method: 'POST', path: '/api/v1/payments' };
    expect(await hashIdempotentRequest({ ...request, params: a })).toBe(
      await hashIdempotentRequest({ ...request, params: b }),
    );
  });

  it('keeps array order, and tells method, path and params apart', async () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    const base = { method: 'POST', path: '/api/v1/payments', params: { a: 1 } };
    const hash = await hashIdempotentRequest(base);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashIdempotentRequest({ ...base, method: 'post' })).toBe(hash);
    expect(await hashIdempotentRequest({ ...base, method: 'PUT' })).not.toBe(hash);
    expect(await hashIdempotentRequest({ ...base, path: '/api/v1/refunds' })).not.toBe(hash);
    expect(await hashIdempotentRequest({ ...base, params: { a: 2 } })).not.toBe(hash);
    expect(await hashIdempotentRequest({ ...base, params: undefined })).toBe(
      await hashIdempotentRequest({ ...base, params: null }),
    );
  });

  it('is a function of the value, not of how its object keys were inserted (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const shuffled = JSON.parse(JSON.stringify(value), (_key, inner: unknown) =>
          typeof inner === 'object' && inner !== null && !Array.isArray(inner)
            ? Object.fromEntries(Object.entries(inner).reverse())
            : inner,
        ) as unknown;
        expect(canonicalJson(shuffled)).toBe(canonicalJson(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value) ?? 'null'));
      }),
    );
  });
});

describe('startIdempotentRequest', () => {
  let memory: MemoryStore;
  let account: Account;
  const t0 = new Date('2026-05-01T10:00:00.000Z');
  const later = (ms: number) => new Date(t0.getTime() + ms);

  beforeEach(async () => {
    memory = createMemoryStore();
    account = await memory.store.repos.accounts.create({ name: 'Acme' });
  });

  const request = (overrides: Partial<IdempotentRequest> = {}): IdempotentRequest => ({
    accountId: account.id,
    key: 'key-0001-aaaaaaaaaaaaaaaa',
    method: 'POST',
    path: '/api/v1/payments',
    params: { plan_id: 'pln_1' },
    requestId: 'req_1',
    ...overrides,
  });

  async function start(r: IdempotentRequest, now: Date) {
    const paramsHash = await hashIdempotentRequest(r);
    return memory.store.transaction((tx) =>
      startIdempotentRequest(tx, r, {
        now,
        lockTimeoutMs: DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS,
        paramsHash,
        requestParams: { stored: true },
      }),
    );
  }

  it('inserts a new key locked by the request, with its hash and the params to resume with', async () => {
    const started = await start(request(), t0);
    expect(started.kind).toBe('new');
    expect(started.key).toMatchObject({
      accountId: account.id,
      requestMethod: 'POST',
      requestPath: '/api/v1/payments',
      paramsHash: await hashIdempotentRequest(request()),
      requestParams: { stored: true },
      lockedAt: t0,
      recoveryPoint: 'started',
      responseStatus: null,
    });
  });

  it('answers 409 with Retry-After while the first request holds the key, and stores nothing', async () => {
    await start(request(), t0);
    const attempt = start(request({ requestId: 'req_2' }), later(1_000));
    await expect(attempt).rejects.toBeInstanceOf(IdempotencyKeyInUseError);
    await expect(attempt).rejects.toMatchObject({
      code: 'idempotency_key_in_use',
      retryable: true,
      context: { retryAfterSeconds: 1 },
      message: expect.stringMatching(/still running/),
    });
    expect(memory.tables.idempotencyKeys).toHaveLength(1);
    expect(memory.tables.idempotencyKeys[0]?.lockedAt).toEqual(t0);
  });

  it('takes over a stale lock and resumes from the recovery point', async () => {
    const first = await start(request(), t0);
    await memory.store.repos.idempotencyKeys.update(first.key.id, { recoveryPoint: 'payment_created' });
    const resumed = await start(request(), later(DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS + 1));
    expect(resumed).toMatchObject({
      kind: 'resume',
      key: { recoveryPoint: 'payment_created', lockedAt: later(DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS + 1) },
    });
  });

  it('takes a released key at once', async () => {
    const first = await start(request(), t0);
    await memory.store.repos.idempotencyKeys.update(first.key.id, { lockedAt: null });
    expect((await start(request(), later(10))).kind).toBe('resume');
  });

  it('replays a stored response, even long after, while the key is kept', async () => {
    const first = await start(request(), t0);
    await memory.store.repos.idempotencyKeys.update(first.key.id, {
      lockedAt: null,
      recoveryPoint: 'finished',
      responseStatus: 201,
      responseBody: { ok: true },
    });
    const replay = await start(request({ requestId: 'req_9' }), later(IDEMPOTENCY_KEY_TTL_MS - 1));
    expect(replay).toMatchObject({
      kind: 'replay',
      key: { responseStatus: 201, responseBody: { ok: true } },
    });
  });

  it.each([
    ['other parameters', { params: { plan_id: 'pln_2' } }, /other parameters/],
    ['another path', { path: '/api/v1/refunds' }, /already used for POST \/api\/v1\/payments/],
    ['another method', { method: 'PUT' }, /already used for POST/],
  ])(
    'refuses the key with %s (422), even while it is locked, and changes nothing',
    async (_what, overrides, message) => {
      await start(request(), t0);
      const before = [...memory.tables.idempotencyKeys];
      const attempt = start(request(overrides), later(1));
      await expect(attempt).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
      await expect(attempt).rejects.toMatchObject({
        code: 'idempotency_key_reused',
        message: expect.stringMatching(message),
      });
      expect(memory.tables.idempotencyKeys).toEqual(before);
    },
  );

  it('keeps keys apart per account: the same key of another account is a new key', async () => {
    await start(request(), t0);
    const other = await memory.store.repos.accounts.create({ name: 'Other' });
    const theirs = await start(request({ accountId: other.id, params: { something: 'else' } }), later(1));
    expect(theirs.kind).toBe('new');
    expect(memory.tables.idempotencyKeys).toHaveLength(2);
  });
});
