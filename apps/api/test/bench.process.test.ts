import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir } from './helpers.js';

/*
 * `pnpm bench` end to end at a tiny size: every benchmark runs, and the report has the shape later
 * tooling reads. Structure only: a figure is a number or null, never compared with a threshold
 * (benchmarks print figures; they never fail a build on one).
 */

const ROOT = path.join(__dirname, '..', '..', '..');
const BENCH = path.join(ROOT, 'scripts', 'bench.cjs');
const BENCH_DATABASE = path.join(__dirname, '..', 'bench', 'database.cjs');

interface Summary {
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
}

interface BenchmarkResult {
  readonly name: string;
  readonly error?: string;
  readonly settings: { readonly duration_s: number; readonly runs: number; readonly concurrency: number[] };
  readonly figures: { readonly key: string; readonly label: string }[];
  readonly levels: {
    readonly concurrency: number;
    readonly runs: Record<string, unknown>[];
    readonly summary: Record<string, Summary>;
  }[];
  readonly extra: Record<string, unknown>;
  readonly environment?: { readonly postgres_version: string; readonly database: string };
}

interface Report {
  readonly schema_version: number;
  readonly date: string;
  readonly machine: Record<string, unknown>;
  readonly versions: {
    readonly node: string;
    readonly postgres: string | null;
    readonly stripe_sdk: string | null;
    readonly pay: Record<string, string>;
  };
  readonly settings: { readonly duration_s: number; readonly runs: number; readonly concurrency: number[] };
  readonly benchmarks: BenchmarkResult[];
}

function runBench(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Asks the bench's own database helper, in a child process, whether the database still exists. */
function databaseExists(name: string): boolean {
  const script = `require(${JSON.stringify(BENCH_DATABASE)}).databaseExists(process.argv[1]).then((exists) => process.stdout.write(String(exists)))`;
  const result = spawnSync(process.execPath, ['-e', script, name], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`could not ask PostgreSQL: ${result.stderr}`);
  }
  return result.stdout === 'true';
}

const aSummary = { median: expect.any(Number), min: expect.any(Number), max: expect.any(Number) };

describe('pnpm bench (scripts/bench.cjs)', () => {
  const temp = makeTempDir('pay-bench-');
  afterAll(() => temp.remove());

  // The 240 s limit is a hang guard: three benchmarks and two backlog drains on a busy two-core machine.
  it('runs the ceiling, sandbox, payments and webhooks benchmarks end to end and writes report.json with the machine, the versions and each figure per level', async () => {
    const outDir = path.join(temp.dir, 'out');
    // The latency benchmarks (api/payments-stripe-latency, …-open) add a minute of Stripe's time and
    // share these scripts; the battery's bench-quick run checks that they run and report.
    const only = 'postgres/ceiling,stripe-sandbox/create-confirm,api/payments,api/webhooks';
    const run = await runBench(['--skip-build', '--only', only, '--out', outDir], {
      BENCH_DURATION_S: '1',
      BENCH_RUNS: '1',
      // The test run's own database variables must not redirect the bench's server choice.
      BENCH_ADMIN_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
      // 40 payments' events instead of 2,000's: the drains' structure, not their figures.
      BENCH_WEBHOOK_BACKLOG: '200',
    });
    const transcript = `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    expect({ code: run.code, transcript }).toEqual({ code: 0, transcript });
    expect(fs.readdirSync(outDir)).toEqual(['report.json']);

    const report = JSON.parse(fs.readFileSync(path.join(outDir, 'report.json'), 'utf8')) as Report;
    expect(report).toEqual({
      schema_version: 1,
      date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      quick: false,
      duration_s: expect.any(Number),
      machine: {
        cpu_model: expect.any(String),
        cpu_count: expect.any(Number),
        available_parallelism: expect.any(Number),
        memory_bytes: expect.any(Number),
        os: expect.any(String),
        arch: process.arch,
        load_average_at_start: [expect.any(Number), expect.any(Number), expect.any(Number)],
        // BENCH_PIN as the run applied it: role:cores pairs, or none on a one-core machine.
        pinning: expect.stringMatching(/^(none|[a-z]+:[\d,-]+(,[a-z]+:[\d,-]+)*)$/),
      },
      versions: {
        node: process.version,
        postgres: expect.stringMatching(/^\d+/),
        stripe_sdk: expect.stringMatching(/^\d+\.\d+\.\d+/),
        pay: expect.objectContaining({ '@pay/api': expect.any(String), '@pay/core': expect.any(String) }),
        git: expect.anything(),
      },
      settings: { duration_s: 1, runs: 1, concurrency: [1, 16, 64] },
      benchmarks: [expect.any(Object), expect.any(Object), expect.any(Object), expect.any(Object)],
      // Judged from the figures (met / not met / n/a); what they say is not this test's business.
      targets: expect.any(Array),
    });
    expect(report.benchmarks.map((b) => [b.name, b.error])).toEqual([
      ['postgres/ceiling', undefined],
      ['stripe-sandbox/create-confirm', undefined],
      ['api/payments', undefined],
      ['api/webhooks', undefined],
    ]);

    for (const benchmark of report.benchmarks) {
      // The ceiling is measured at the one concurrency, 16; pay's figures at every level.
      const levels =
        benchmark.name === 'postgres/ceiling'
          ? [[16, 1]]
          : [
              [1, 1],
              [16, 1],
              [64, 1],
            ];
      expect(benchmark.levels.map((level) => [level.concurrency, level.runs.length])).toEqual(levels);
      for (const level of benchmark.levels) {
        // Every figure the benchmark declares is summarised at every level, as numbers or nulls.
        expect(Object.keys(level.summary).sort()).toEqual(benchmark.figures.map((f) => f.key).sort());
        for (const summary of Object.values(level.summary)) {
          expect(Object.keys(summary).sort()).toEqual(['max', 'median', 'min']);
        }
      }
    }

    const sandbox = report.benchmarks[1];
    for (const level of sandbox?.levels ?? []) {
      expect(level.summary).toEqual(
        expect.objectContaining({
          req_per_s: aSummary,
          p50_ms: aSummary,
          p99_ms: aSummary,
          errors: aSummary,
        }),
      );
    }

    const payments = report.benchmarks[2];
    for (const level of payments?.levels ?? []) {
      // Throughput, latency, the gateway's share per payment (matched in the sandbox's log) and pay's
      // own: each computed, so the bench measured real payments end to end.
      expect(level.summary).toEqual(
        expect.objectContaining({
          payments_per_s: aSummary,
          latency_p50_ms: aSummary,
          latency_p95_ms: aSummary,
          latency_p99_ms: aSummary,
          gateway_p50_ms: aSummary,
          gateway_p99_ms: aSummary,
          pay_added_p50_ms: aSummary,
          pay_added_p99_ms: aSummary,
          gateway_client_mean_ms: aSummary,
          pay_added_mean_ms: aSummary,
        }),
      );
      // Failed requests would mean the bench timed errors, not payments.
      expect(level.runs.map((r) => r.failures_by_kind)).toEqual([{}]);
    }
    // Which cores each process was allowed and ran on (sampled from /proc), and BENCH_PIN as applied.
    const coresOf = {
      allowed: expect.any(Array),
      cpu_ms_sampled: expect.any(Number),
      pids: expect.any(Array),
      share_by_core: expect.any(Object),
    };
    expect(payments?.extra).toEqual({
      api_peak_rss_bytes: process.platform === 'linux' ? expect.any(Number) : null,
      sandbox_peak_rss_bytes: process.platform === 'linux' ? expect.any(Number) : null,
      cores: { api: coresOf, sandbox: coresOf, load: coresOf, postgres: coresOf },
      pinning: report.machine.pinning,
    });
    expect(payments?.environment).toEqual({
      postgres_version: report.versions.postgres,
      database: expect.stringMatching(/^pay_bench_\d+_[0-9a-f]{8}$/),
    });
    // The fresh database the payments ran on is gone.
    expect(databaseExists(payments?.environment?.database ?? '')).toBe(false);

    const webhooks = report.benchmarks[3];
    for (const level of webhooks?.levels ?? []) {
      // Signed events acknowledged at each level: throughput and the ack latency the issue asks for.
      expect(level.summary).toEqual(
        expect.objectContaining({
          acks_per_s: aSummary,
          ack_p50_ms: aSummary,
          ack_p99_ms: aSummary,
        }),
      );
      expect(level.runs.map((r) => r.failed_requests)).toEqual([0]);
    }
    // The backlog drained with one and with two workers: every event handled, none left or dead.
    const drainOf = (workers: number) => ({
      workers,
      events: 200,
      drain_s: expect.any(Number),
      events_per_s: expect.any(Number),
      wall_s: expect.any(Number),
      backlog_fill_s: expect.any(Number),
      statuses: expect.not.objectContaining({ pending: expect.anything() }),
    });
    expect(webhooks?.extra).toEqual({
      payload_bytes_mean: expect.any(Number),
      drain: [drainOf(1), drainOf(2), drainOf(4)],
      api_peak_rss_bytes: process.platform === 'linux' ? expect.any(Number) : null,
      pinning: report.machine.pinning,
    });
    const drains = (webhooks?.extra.drain ?? []) as { statuses: Record<string, number> }[];
    for (const drain of drains) {
      expect(Object.keys(drain.statuses).filter((s) => s !== 'processed' && s !== 'ignored')).toEqual([]);
      expect((drain.statuses.processed ?? 0) + (drain.statuses.ignored ?? 0)).toBe(200);
    }
    expect(databaseExists(webhooks?.environment?.database ?? '')).toBe(false);

    for (const title of [
      'stripe-sandbox/create-confirm:',
      'api/payments:',
      'API peak RSS (VmHWM):',
      'api/webhooks:',
      'drain of 200 events with 1 worker:',
      'drain of 200 events with 2 workers:',
    ]) {
      expect(run.stdout).toContain(title);
    }
  }, 240_000);
});
