import { GATEWAY_DISPUTE_STATUSES } from '../ports/gateway-events.js';
import { DISPUTE_STATUS_RANK, isDisputeClosed, isNewerDisputeReport } from './dispute-lifecycle.js';
import { DISPUTE_STATUSES } from './statuses.js';

const at = (iso: string) => new Date(iso);

describe('dispute lifecycle', () => {
  it('stores every status Stripe reports', () => {
    expect([...DISPUTE_STATUSES].sort()).toEqual([...GATEWAY_DISPUTE_STATUSES].sort());
    expect(Object.keys(DISPUTE_STATUS_RANK).sort()).toEqual([...DISPUTE_STATUSES].sort());
  });

  it('takes a report from a later second whatever its status (an appeal reopens a lost dispute)', () => {
    const stored = { status: 'lost' as const, stripeUpdatedAt: at('2026-03-01T10:00:00.900Z') };
    expect(
      isNewerDisputeReport(stored, {
        status: 'appeal_needs_response',
        reportedAt: at('2026-03-01T10:00:01Z'),
      }),
    ).toBe(true);
    expect(
      isNewerDisputeReport(stored, { status: 'under_review', reportedAt: at('2026-03-01T09:59:59Z') }),
    ).toBe(false);
  });

  it('within one second, takes only a status further along', () => {
    const stored = { status: 'needs_response' as const, stripeUpdatedAt: at('2026-03-01T10:00:00Z') };
    const same = at('2026-03-01T10:00:00.500Z');
    expect(isNewerDisputeReport(stored, { status: 'under_review', reportedAt: same })).toBe(true);
    expect(isNewerDisputeReport(stored, { status: 'won', reportedAt: same })).toBe(true);
    expect(isNewerDisputeReport(stored, { status: 'warning_needs_response', reportedAt: same })).toBe(false);
    expect(isNewerDisputeReport(stored, { status: 'needs_response', reportedAt: same })).toBe(false);
    const won = { status: 'won' as const, stripeUpdatedAt: stored.stripeUpdatedAt };
    expect(isNewerDisputeReport(won, { status: 'lost', reportedAt: same })).toBe(false);
  });

  it('knows which statuses close a dispute', () => {
    expect(DISPUTE_STATUSES.filter(isDisputeClosed).sort()).toEqual([
      'lost',
      'prevented',
      'warning_closed',
      'won',
    ]);
  });
});
