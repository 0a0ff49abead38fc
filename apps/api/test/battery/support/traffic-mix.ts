import type { seededRandom } from './figures.js';
import type { FlowInput, FlowKind } from './traffic.js';
import type { StripeEventJson } from './webhooks.js';

/*
 * A seeded mix of flows for one burst of traffic: the same seed, the same kinds, refund targets, events
 * and 3-D Secure choices, so a failing round replays with SEED=.
 */

/** How many of every 50 flows are of each kind. */
const WEIGHTS: Record<FlowKind, number> = { card: 14, three_ds: 8, decline: 6, refund: 12, webhook: 10 };

/** The generator a test draws from: one per seed. */
export type Random = ReturnType<typeof seededRandom>;

export function pick<T>(items: readonly T[], random: Random): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) {
    throw new Error('pick from an empty list');
  }
  return item;
}

/**
 * `count` flows numbered from `firstFlow`: kinds by {@link WEIGHTS}, refunds of `refundable` payments,
 * deliveries of `events`. A kind with nothing to work on (no payment to refund yet, no event) becomes
 * a card payment.
 */
export function mixFlows(
  count: number,
  firstFlow: number,
  random: Random,
  refundable: readonly string[],
  events: readonly StripeEventJson[],
): FlowInput[] {
  const kinds = Object.entries(WEIGHTS) as [FlowKind, number][];
  const total = kinds.reduce((sum, [, w]) => sum + w, 0);
  return Array.from({ length: count }, (_, i): FlowInput => {
    let roll = random() * total;
    let kind: FlowKind = 'card';
    for (const [k, w] of kinds) {
      if (roll < w) {
        kind = k;
        break;
      }
      roll -= w;
    }
    const flow = firstFlow + i;
    if (kind === 'refund' && refundable.length > 0) {
      return { flow, kind, refundOf: pick(refundable, random) };
    }
    if (kind === 'webhook' && events.length > 0) {
      return { flow, kind, event: pick(events, random) };
    }
    if (kind === 'three_ds') {
      return {
        flow,
        kind,
        challenge: random() < 0.75 ? 'succeed' : 'fail',
        returnAfterMs: Math.floor(random() * 400),
      };
    }
    return { flow, kind: kind === 'refund' || kind === 'webhook' ? 'card' : kind };
  });
}
