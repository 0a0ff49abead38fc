import type { PayState } from '../pay-state.js';
import type { Violation } from '../report.js';

/**
 * K5: after recovery no idempotency key is locked, and every key has its stored response (the flow
 * behind it finished, so a retry replays instead of running again).
 */
export function evaluateK5(pay: PayState): Violation[] {
  const violations: Violation[] = [];
  for (const key of pay.idempotencyKeys) {
    const where = { key: key.key, path: key.request_path, recoveryPoint: key.recovery_point };
    if (key.locked_at !== null) {
      violations.push({
        invariant: 'K5',
        objectId: key.id,
        message: `is still locked (since ${key.locked_at.toISOString()}) at recovery point ${key.recovery_point}`,
        details: where,
      });
    }
    if (key.response_status === null) {
      violations.push({
        invariant: 'K5',
        objectId: key.id,
        message: `has no stored response: its flow stopped at recovery point ${key.recovery_point}`,
        details: where,
      });
    }
  }
  return violations;
}
