import { latencySampler, LatencySpecError, parseLatency, seededRandom } from './latency.js';

describe('latency', () => {
  it('draws the same sequence for the same seed', () => {
    const spec = { type: 'lognormal', median_ms: 300, sigma: 0.5, seed: 42 } as const;
    const a = latencySampler(spec);
    const b = latencySampler(spec);
    const first = Array.from({ length: 20 }, a);
    expect(Array.from({ length: 20 }, b)).toEqual(first);
    expect(Array.from({ length: 20 }, latencySampler({ ...spec, seed: 43 }))).not.toEqual(first);
  });

  it('has the requested median, within sampling error', () => {
    const draw = latencySampler({ type: 'lognormal', median_ms: 300, sigma: 0.6, seed: 7 });
    const samples = Array.from({ length: 5001 }, draw).sort((x, y) => x - y);
    const median = samples[2500] ?? 0;
    expect(median).toBeGreaterThan(280);
    expect(median).toBeLessThan(320);
    expect(samples[4900]).toBeGreaterThan(600); // a long right tail, like real latency
  });

  it('clamps to min and max, and draws uniformly within bounds', () => {
    const clamped = Array.from(
      { length: 500 },
      latencySampler({ type: 'lognormal', median_ms: 100, sigma: 2, min_ms: 50, max_ms: 150 }),
    );
    expect(Math.min(...clamped)).toBeGreaterThanOrEqual(50);
    expect(Math.max(...clamped)).toBeLessThanOrEqual(150);
    const uniform = Array.from({ length: 500 }, latencySampler({ type: 'uniform', min_ms: 10, max_ms: 20 }));
    expect(Math.min(...uniform)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...uniform)).toBeLessThanOrEqual(20);
  });

  it('generates uniform numbers in [0, 1)', () => {
    const random = seededRandom(1);
    const values = Array.from({ length: 1000 }, random);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('parses the CLI forms', () => {
    expect(parseLatency('250')).toEqual({ type: 'fixed', ms: 250 });
    expect(parseLatency('fixed:40')).toEqual({ type: 'fixed', ms: 40 });
    expect(parseLatency('lognormal:median=300,sigma=0.5,seed=42,max=2000')).toEqual({
      type: 'lognormal',
      median_ms: 300,
      sigma: 0.5,
      seed: 42,
      max_ms: 2000,
    });
    expect(parseLatency('uniform:min=1,max=5')).toEqual({ type: 'uniform', min_ms: 1, max_ms: 5 });
    for (const bad of [
      'lognormal',
      'lognormal:median=x',
      'normal:median=1',
      'uniform:min=5,max=1',
      'fixed:-1',
    ]) {
      expect(() => parseLatency(bad)).toThrow(LatencySpecError);
    }
  });
});
