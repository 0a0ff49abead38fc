import type { StripeEventJson } from './webhooks.js';

/*
 * Long-running load for the J battery (RELIABILITY.md J3, J4): an open-loop pacer (work starts on the
 * clock, whether or not earlier work has ended, as real clients arrive), a sampler of the API's own
 * Prometheus figures at GET /metrics (unauthenticated, like the probes), and a rolling pool of the
 * sandbox's newest events to deliver as webhooks. Everything here is measured and printed, never
 * asserted: on two shared cores, timings are figures, not pass criteria.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The p-th percentile (0–100) of `values` by nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) {
    return Number.NaN;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** What an open loop did: how many starts, and how far behind its clock the pacer fell at worst. */
export interface OpenLoopReport {
  readonly started: number;
  readonly elapsedMs: number;
  /** The worst lateness of a start against its slot: the test process's own congestion. */
  readonly maxLateMs: number;
}

/**
 * Calls `start(i)` at `perSecond` evenly spaced instants for `durationMs` (or `count` times, whichever
 * the caller gives), without awaiting what it returns: an open loop. Resolves once every start has
 * been made and every returned promise has settled; a rejection is handed to `onError` (which may
 * record it) so one failing item never stops the clock.
 */
export async function openLoop(
  options: { readonly perSecond: number; readonly durationMs?: number; readonly count?: number },
  start: (i: number) => Promise<unknown>,
  onError: (i: number, error: unknown) => void,
): Promise<OpenLoopReport> {
  const intervalMs = 1000 / options.perSecond;
  const count = options.count ?? Math.floor(((options.durationMs ?? 0) / 1000) * options.perSecond);
  const t0 = performance.now();
  const running: Promise<unknown>[] = [];
  let maxLateMs = 0;
  for (let i = 0; i < count; i++) {
    const slot = t0 + i * intervalMs;
    const wait = slot - performance.now();
    if (wait > 0) {
      await sleep(wait);
    }
    maxLateMs = Math.max(maxLateMs, performance.now() - slot);
    running.push(
      start(i).catch((error: unknown) => {
        onError(i, error);
      }),
    );
  }
  const elapsedMs = performance.now() - t0;
  await Promise.all(running);
  return { started: count, elapsedMs, maxLateMs };
}

/** One scrape of the API's process figures. */
export interface ProcessSample {
  /** Milliseconds since the sampler started. */
  readonly atMs: number;
  readonly rssBytes: number;
  /** prom-client's event-loop delay p99 since the previous scrape (it resets its histogram per scrape). */
  readonly eventLoopP99Ms: number;
  readonly activeHandles: number;
  /** Every unlabelled-or-labelled series of the scrape, by its full name (`name{labels}`). */
  readonly series: ReadonlyMap<string, number>;
}

/** Parses Prometheus' text format into `name{labels}` → value (comments skipped). */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (space > 0 && Number.isFinite(value)) {
      out.set(line.slice(0, space), value);
    }
  }
  return out;
}

function seriesValue(series: ReadonlyMap<string, number>, name: string): number {
  const value = series.get(name);
  if (value === undefined) {
    throw new Error(`GET /metrics has no ${name}`);
  }
  return value;
}

/** Scrapes GET /metrics once. */
export async function scrapeProcess(apiUrl: string, atMs: number): Promise<ProcessSample> {
  const res = await fetch(`${apiUrl}/metrics`);
  if (res.status !== 200) {
    throw new Error(`GET /metrics answered ${res.status}`);
  }
  const series = parsePrometheus(await res.text());
  return {
    atMs,
    rssBytes: seriesValue(series, 'process_resident_memory_bytes'),
    eventLoopP99Ms: seriesValue(series, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    activeHandles: seriesValue(series, 'nodejs_active_handles_total'),
    series,
  };
}

/** A running sampler: its samples so far, and the scrapes that failed (printed, never hidden). */
export interface ProcessSampler {
  readonly samples: ProcessSample[];
  readonly failures: string[];
  stop(): Promise<void>;
}

/** Scrapes GET /metrics every `everyMs` until stopped. */
export function sampleProcess(apiUrl: string, everyMs: number): ProcessSampler {
  const samples: ProcessSample[] = [];
  const failures: string[] = [];
  const t0 = performance.now();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const atMs = Math.round(performance.now() - t0);
      try {
        samples.push(await scrapeProcess(apiUrl, atMs));
      } catch (error) {
        failures.push(`${atMs} ms: ${error instanceof Error ? error.message : String(error)}`);
      }
      const next = t0 + (samples.length + failures.length) * everyMs;
      while (!stopped && performance.now() < next) {
        await sleep(Math.min(200, next - performance.now()));
      }
    }
  })();
  return {
    samples,
    failures,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** The figures a soak prints from its samples. */
export interface ProcessFigures {
  readonly samples: number;
  readonly rssWarmMiB: number;
  readonly rssEndMiB: number;
  readonly rssMaxMiB: number;
  /** (end − after warm-up) / after warm-up, in %. */
  readonly rssGrowthPct: number;
  readonly eventLoopP99MaxMs: number;
  readonly eventLoopP99MedianMs: number;
  readonly handlesFirst: number;
  readonly handlesLast: number;
  readonly handlesMax: number;
}

const MiB = 1024 * 1024;
const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * Summarizes samples: RSS at the first sample at or after `warmUpMs` and at the last one, event-loop
 * p99 over the samples after warm-up (the first scrapes include start-up), handles over all of them.
 */
export function processFigures(samples: readonly ProcessSample[], warmUpMs: number): ProcessFigures {
  const last = samples.at(-1);
  const warm = samples.find((s) => s.atMs >= warmUpMs) ?? last;
  if (last === undefined || warm === undefined) {
    throw new Error('no /metrics sample was taken');
  }
  const afterWarmUp = samples.filter((s) => s.atMs >= warmUpMs);
  const loop = (afterWarmUp.length > 0 ? afterWarmUp : samples).map((s) => s.eventLoopP99Ms);
  const handles = samples.map((s) => s.activeHandles);
  return {
    samples: samples.length,
    rssWarmMiB: round1(warm.rssBytes / MiB),
    rssEndMiB: round1(last.rssBytes / MiB),
    rssMaxMiB: round1(Math.max(...samples.map((s) => s.rssBytes)) / MiB),
    rssGrowthPct: round1(((last.rssBytes - warm.rssBytes) / warm.rssBytes) * 100),
    eventLoopP99MaxMs: round1(Math.max(...loop)),
    eventLoopP99MedianMs: round1(percentile(loop, 50)),
    handlesFirst: handles[0] as number,
    handlesLast: handles.at(-1) as number,
    handlesMax: Math.max(...handles),
  };
}

/**
 * The sandbox account's newest events (one page, newest first), kept as a bounded pool: a soak
 * delivers real recent events without listing a history that grows by thousands a minute.
 */
export class RecentEvents {
  private pool: StripeEventJson[] = [];

  constructor(
    private readonly sandboxUrl: string,
    private readonly secretKey: string,
    private readonly limit = 100,
  ) {}

  get events(): readonly StripeEventJson[] {
    return this.pool;
  }

  async refresh(): Promise<void> {
    const res = await fetch(`${this.sandboxUrl}/v1/events?limit=${this.limit}`, {
      headers: { authorization: `Bearer ${this.secretKey}` },
    });
    if (!res.ok) {
      throw new Error(`GET /v1/events answered ${res.status}: ${await res.text()}`);
    }
    const page = (await res.json()) as { data: StripeEventJson[] };
    this.pool = page.data;
  }
}

/**
 * Lines of a process's log that name a database connection the pool could not get or keep:
 * postgres.js's own codes (it queues queries without limit, so an exhausted pool surfaces as a
 * `CONNECT_TIMEOUT` or a connection error, never as a pool error) and PostgreSQL's "too many clients"
 * (SQLSTATE 53300).
 */
export function poolErrorLines(log: string): string[] {
  const pattern =
    /CONNECT_TIMEOUT|CONNECTION_(CLOSED|DESTROYED|ENDED)|too many clients|remaining connection slots|53300|dependency_unavailable/i;
  return log.split('\n').filter((line) => pattern.test(line));
}
