import { createMemoryStore } from '../../test/memory/memory-store.js';
import { DependencyUnavailableError, GatewayUnavailableError } from '../errors.js';
import type { AccountId } from '../ids.js';
import { silentLogger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import { releaseKey } from './key-release.js';

const FLOW = { name: 'payment flow', resourceField: 'paymentId', progress: 'the payment’s progress' };

async function lockedKey(store: Store) {
  const { key } = await store.repos.idempotencyKeys.insert({
    accountId: 'acc_release' as AccountId,
    key: 'release-test-key-0000000000',
    requestMethod: 'POST',
    requestPath: '/api/v1/payments',
    paramsHash: 'hash',
    now: new Date(),
  });
  return key;
}

/** `store` whose key updates fail with `error` the first `times` calls. */
function failingUpdates(store: Store, times: number, error: Error): Store {
  let left = times;
  return {
    ...store,
    repos: {
      ...store.repos,
      idempotencyKeys: {
        ...store.repos.idempotencyKeys,
        update: (...args) =>
          left-- > 0 ? Promise.reject(error) : store.repos.idempotencyKeys.update(...args),
      },
    },
  };
}

describe('releaseKey', () => {
  const cause = new GatewayUnavailableError('Stripe did not answer.');

  it('releases the key once the database answers again: a lost connection fails the first statement on the next', async () => {
    const { store } = createMemoryStore();
    const key = await lockedKey(store);
    const lost = new DependencyUnavailableError('The database connection was lost.');
    const returned = await releaseKey(
      { store: failingUpdates(store, 1, lost), logger: silentLogger },
      key,
      cause,
      FLOW,
    );
    expect(returned).toBe(cause);
    expect((await store.repos.idempotencyKeys.find(key.accountId, key.key))?.lockedAt).toBeNull();
  });

  it('leaves the key to go stale, and still answers with the flow’s error, when the database stays away', async () => {
    const { store } = createMemoryStore();
    const key = await lockedKey(store);
    const lost = new DependencyUnavailableError('The database connection was lost.');
    const returned = await releaseKey(
      { store: failingUpdates(store, 2, lost), logger: silentLogger },
      key,
      cause,
      FLOW,
    );
    expect(returned).toBe(cause);
    expect((await store.repos.idempotencyKeys.find(key.accountId, key.key))?.lockedAt).not.toBeNull();
  });

  it('does not retry a release that failed for another reason than a lost database', async () => {
    const { store } = createMemoryStore();
    const key = await lockedKey(store);
    const returned = await releaseKey(
      { store: failingUpdates(store, 1, new Error('check constraint violated')), logger: silentLogger },
      key,
      cause,
      FLOW,
    );
    expect(returned).toBe(cause);
    expect((await store.repos.idempotencyKeys.find(key.accountId, key.key))?.lockedAt).not.toBeNull();
  });
});
