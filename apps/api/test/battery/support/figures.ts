/*
 * Printed figures and seeded randomness: a battery asserts invariants only, and prints what it measured
 * (RELIABILITY.md: "every time bound is a figure the test prints"). Randomized runs print their seed and
 * replay with SEED=.
 */

/** True under `NIGHTLY=1`: the big sizes. */
export const NIGHTLY = process.env.NIGHTLY === '1' || process.env.NIGHTLY === 'true';

/** The run's seed: `SEED`, else a fresh one (printed by the test that uses it). */
export function seedOf(): number {
  const given = Number(process.env.SEED);
  return Number.isInteger(given) && given > 0 ? given : Math.floor(Math.random() * 2 ** 31) + 1;
}

/** A small seeded generator (mulberry32): the same SEED gives the same jitter. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Prints one figure line, tagged with the test it belongs to. */
export function figure(test: string, text: string): void {
  console.log(`[${test}] ${text}`);
}

/** Counts of each distinct value, as `value×n` sorted by value: for printing answer mixes. */
export function tally(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) {
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([v, n]) => `${v}×${n}`)
    .join(', ');
}

/** Milliseconds since `start` (from `performance.now()`), rounded. */
export function since(start: number): number {
  return Math.round(performance.now() - start);
}
