/*
 * The run sizes and seed of core's randomized tests (DESIGN.md §9: "randomized tests print their seed and
 * replay with SEED="; NIGHTLY=1 runs the big sizes). The environment is read here, in the tests' support
 * code, because core's own modules never read it.
 */

/** True under `NIGHTLY=1`: the big sizes. */
export const NIGHTLY = process.env.NIGHTLY === '1' || process.env.NIGHTLY === 'true';

/** The run's seed: `SEED`, else a fresh one (the test prints it). */
export function seedOf(): number {
  const given = Number(process.env.SEED);
  return Number.isInteger(given) && given !== 0 ? given : Math.floor(Math.random() * 2 ** 31) + 1;
}
