import type { IdempotencyKey } from '../domain/entities.js';
import type { IdempotencyKeyId } from '../ids.js';
import type { Store } from '../ports/store.js';
import { IDEMPOTENCY_KEY_TTL_MS } from './idempotency.js';

/** Which keys a recovery pass resumes. */
export interface ResumableKeys {
  readonly now: Date;
  /** A lock older than this is stale: its holder is presumed dead. */
  readonly lockTimeoutMs: number;
  /** The flow's resources (`pay_`, `rfnd_`): each flow resumes only its own keys. */
  readonly resourceIdPrefix: string;
  readonly batch: number;
}

/**
 * Recovery's first step for a flow kept on idempotency keys: every key of the flow left without a
 * response, free or stale, younger than 24 h, is locked (compare-and-set: a client's retry may take the
 * same key at the same moment) and handed to `resume`, which continues it from its recovery point. A
 * failure on one key goes to `fail` and never stops the pass. Returns how many keys were resumed.
 */
export async function resumeStaleKeys(
  store: Store,
  which: ResumableKeys,
  resume: (key: IdempotencyKey) => Promise<void>,
  fail: (id: string, error: unknown) => void,
): Promise<number> {
  const { now, batch } = which;
  const staleBefore = new Date(now.getTime() - which.lockTimeoutMs);
  let resumed = 0;
  let afterId: IdempotencyKeyId | undefined;
  for (;;) {
    const keys = await store.repos.idempotencyKeys.listResumable({
      createdAfter: new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS),
      staleBefore,
      resourceIdPrefix: which.resourceIdPrefix,
      afterId,
      limit: batch,
    });
    for (const key of keys) {
      try {
        const locked = await store.repos.idempotencyKeys.lock(key.id, now, staleBefore);
        if (locked !== null) {
          await resume(locked);
          resumed += 1;
        }
      } catch (error) {
        fail(key.resourceId ?? key.id, error);
      }
    }
    afterId = keys.at(-1)?.id;
    if (keys.length < batch) {
      return resumed;
    }
  }
}
