import { ForbiddenError, roleSatisfies, type RefundService } from '@pay/core';
import type { Response } from 'express';
import { authenticated } from '../../middleware/authenticate.js';

/** Which admin operation a refused caller attempted, as the audit row names it. */
export type RefundOperation = 'refund.create' | 'refund.approve';

/**
 * Lets only admin keys move money (RELIABILITY.md E5, G3). A service key's attempt is written to the
 * audit log as a denied refund (`refund.denied`, with what it tried to refund), not only as a generic
 * `api_key.forbidden`, so count(audit rows) matches the admin commands issued; then the answer is a
 * 403 `forbidden` and nothing else happens. The check runs before the idempotency key is read, so a
 * refused request stores nothing.
 */
export async function requireRefundAdmin(
  res: Response,
  refunds: RefundService,
  attempted: RefundOperation,
  targetId: string,
): Promise<void> {
  const caller = authenticated(res);
  if (roleSatisfies(caller.role, 'admin')) {
    return;
  }
  await refunds.recordDenied({
    accountId: caller.accountId,
    actor: { type: 'api_key', id: caller.apiKey.id, requestId: res.locals.requestId },
    attempted,
    targetId,
    reason: `An API key with the ${caller.role} role may not ${attempted === 'refund.create' ? 'refund payments' : 'approve refunds'}.`,
  });
  throw new ForbiddenError('Refunds need an API key with the admin role.', {
    context: { apiKeyId: caller.apiKey.id, required: 'admin' },
  });
}
