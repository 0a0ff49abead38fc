/*
 * Seeded latency, so a benchmark against the sandbox can stand in for real Stripe and still be
 * reproducible: the same seed gives the same sequence of delays for the same sequence of requests.
 */

/** How long a request is held: fixed, log-normal (median and shape), or uniform. */
export type LatencyDistribution =
  | { type: 'fixed'; ms: number }
  | { type: 'lognormal'; median_ms: number; sigma?: number; seed?: number; min_ms?: number; max_ms?: number }
  | { type: 'uniform'; min_ms: number; max_ms: number; seed?: number };

/** A bad distribution; the control plane answers 400, the CLI exits 2. */
export class LatencySpecError extends Error {
  override readonly name = 'LatencySpecError';
}

/** mulberry32: a tiny, fast, well-mixed 32-bit PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function nonNegative(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new LatencySpecError(`${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

/** Returns a function drawing delays (ms, integers) from the distribution. */
export function latencySampler(spec: LatencyDistribution): () => number {
  switch (spec.type) {
    case 'fixed': {
      const ms = Math.round(nonNegative(spec.ms, 'ms'));
      return () => ms;
    }
    case 'uniform': {
      const min = nonNegative(spec.min_ms, 'min_ms');
      const max = nonNegative(spec.max_ms, 'max_ms');
      if (max < min) {
        throw new LatencySpecError('max_ms must be at least min_ms');
      }
      const random = seededRandom(spec.seed ?? 1);
      return () => Math.round(min + (max - min) * random());
    }
    case 'lognormal': {
      const median = nonNegative(spec.median_ms, 'median_ms');
      const sigma = nonNegative(spec.sigma ?? 0.5, 'sigma');
      const min = nonNegative(spec.min_ms ?? 0, 'min_ms');
      const max = spec.max_ms === undefined ? Infinity : nonNegative(spec.max_ms, 'max_ms');
      const random = seededRandom(spec.seed ?? 1);
      return () => {
        // Box–Muller: one standard normal from two uniforms; 1 - u keeps log() away from 0.
        const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        return Math.round(Math.min(max, Math.max(min, median * Math.exp(sigma * z))));
      };
    }
    default: {
      const unknown: never = spec;
      throw new LatencySpecError(`unknown latency distribution ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Parses the CLI form: `300` (fixed ms), `fixed:300`, `lognormal:median=300,sigma=0.5,seed=42[,min=…,max=…]`
 * or `uniform:min=100,max=500[,seed=…]`.
 */
export function parseLatency(text: string): LatencyDistribution {
  if (/^\d+(\.\d+)?$/.test(text)) {
    return { type: 'fixed', ms: Number(text) };
  }
  const [type, rest = ''] = text.split(':', 2) as [string, string?];
  if (type === 'fixed' && /^\d+(\.\d+)?$/.test(rest)) {
    return { type: 'fixed', ms: Number(rest) };
  }
  const fields = new Map<string, number>();
  for (const part of rest.split(',').filter((p) => p !== '')) {
    const [k, v] = part.split('=', 2);
    const n = Number(v);
    if (k === undefined || v === undefined || !Number.isFinite(n)) {
      throw new LatencySpecError(`bad latency field "${part}" (expected name=number)`);
    }
    fields.set(k, n);
  }
  const need = (k: string): number => {
    const v = fields.get(k);
    if (v === undefined) {
      throw new LatencySpecError(`latency ${type} needs ${k}=…`);
    }
    return v;
  };
  let spec: LatencyDistribution;
  switch (type) {
    case 'fixed':
      spec = { type: 'fixed', ms: need('ms') };
      break;
    case 'lognormal':
      spec = {
        type: 'lognormal',
        median_ms: need('median'),
        ...(fields.has('sigma') ? { sigma: need('sigma') } : {}),
        ...(fields.has('seed') ? { seed: need('seed') } : {}),
        ...(fields.has('min') ? { min_ms: need('min') } : {}),
        ...(fields.has('max') ? { max_ms: need('max') } : {}),
      };
      break;
    case 'uniform':
      spec = {
        type: 'uniform',
        min_ms: need('min'),
        max_ms: need('max'),
        ...(fields.has('seed') ? { seed: need('seed') } : {}),
      };
      break;
    default:
      throw new LatencySpecError(
        `unknown latency "${text}": use <ms>, fixed:<ms>, lognormal:median=…,sigma=…,seed=… or uniform:min=…,max=…`,
      );
  }
  latencySampler(spec); // validates
  return spec;
}
