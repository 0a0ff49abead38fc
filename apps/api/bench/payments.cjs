#!/usr/bin/env node
/*
 * `pnpm --filter @pay/api bench` (and part of the root `pnpm bench`): how many payments per second
 * POST /api/v1/payments takes, at what latency, and how much of that latency is pay's own.
 *
 * Set-up: a fresh PostgreSQL database; the Stripe sandbox and the API (node dist/main.js, PostgreSQL,
 * the sandbox as its Stripe, no worker, rate limit out of the way) each in a process of their own; an
 * account, a service API key and a monthly plan made through @pay/runtime's services. Then a warm-up,
 * and for each concurrency level, BENCH_RUNS runs of BENCH_DURATION_S seconds (the levels interleaved
 * run by run, so a slow minute of the machine hits every level alike). Each request pays for a new
 * subscriber with pm_card_visa under a fresh Idempotency-Key. After each run, for as long again and at
 * the same concurrency, the run's answered payments are replayed (same key, same body): each must be
 * answered with the stored response. Between runs the sandbox is reset, so its request log holds one
 * run's calls and its memory does not grow. The API's /metrics is scraped at each run's start and end:
 * the gateway histogram's delta, and the event-loop delay (prom-client resets it on every scrape).
 * Throughout the runs a sampler reads which cores the API, the sandbox, the load generator (this
 * process) and the database's backends ran on; BENCH_PIN pins the first three (processes.cjs).
 *
 * Figures are printed and written, never judged: the exit code is non-zero only when the bench could
 * not run (the failures of single requests are counted in the figures).
 *
 * Options (environment): BENCH_DURATION_S (seconds per run and level, default 6), BENCH_RUNS (default 3),
 * BENCH_CONCURRENCY (default "1,16,64"), BENCH_WARMUP_S (default min(2, BENCH_DURATION_S)), BENCH_JSON (write the result
 * there as JSON), BENCH_ADMIN_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_API_NODE_ARGS (node flags for the API process: `--cpu-prof --cpu-prof-dir=/tmp/prof` profiles
 * it, the profile written when the bench stops it), BENCH_PIN (`api:0,sandbox:1,load:1`, or `none`).
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { controlPlane, numberFromEnv, scrapeMetrics, seedAccount } = require('./bench-setup.cjs');
const { createBenchDatabase, loadPostgres } = require('./database.cjs');
const { parseGatewayHistogram } = require('./gateway-time.cjs');
const { createAgent, drivePayments, driveReplays } = require('./load.cjs');
const {
  FIGURES,
  cpuFigures,
  cpuSnapshot,
  eventLoopFigures,
  figuresOfRun,
  replayFigures,
} = require('./payment-figures.cjs');
const {
  API_MAIN,
  ROOT,
  coreLines,
  createCoreSampler,
  peakRssBytes,
  childPids,
  pinSelf,
  pinSetting,
  startApiProcess,
  startSandboxProcess,
} = require('./processes.cjs');
const { summariseLevels, renderResultTable } = require('./summary.cjs');

const DURATION_S = numberFromEnv('BENCH_DURATION_S', 6, { min: 0.1, integer: false });
const RUNS = numberFromEnv('BENCH_RUNS', 3, { min: 1, integer: true });
const WARMUP_S = numberFromEnv('BENCH_WARMUP_S', Math.min(2, DURATION_S), { min: 0, integer: false });
const LEVELS = (process.env.BENCH_CONCURRENCY || '1,16,64').split(',').map((level) => {
  const n = Number(level);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`BENCH_CONCURRENCY must be positive integers separated by commas, got "${level}"`);
  }
  return n;
});

/** The server createBenchDatabase uses (database.cjs reads the same variables), for pg_stat_activity. */
const ADMIN_URL =
  process.env.BENCH_ADMIN_DATABASE_URL ||
  process.env.PAY_TEST_DATABASE_URL ||
  'postgres://postgres@127.0.0.1:5432/postgres';

/** Set by SIGINT/SIGTERM: the load stops and the bench cleans up instead of finishing. */
let interrupted = false;

function checkInterrupted() {
  if (interrupted) {
    throw new Error('interrupted');
  }
}

function log(message) {
  process.stderr.write(`[bench:payments] ${message}\n`);
}

/** The pids of PostgreSQL's backends serving `database` (the API's pool), for the core sampler. */
async function backendPids(admin, database) {
  const rows = await admin`SELECT pid FROM pg_stat_activity WHERE datname = ${database}`;
  return rows.map((row) => row.pid);
}

async function runBench() {
  const built = [
    API_MAIN,
    path.join(ROOT, 'packages', 'runtime', 'dist', 'index.js'),
    path.join(ROOT, 'packages', 'stripe-sandbox', 'dist', 'cli.js'),
  ];
  for (const dist of built) {
    if (!fs.existsSync(dist)) {
      throw new Error(`${path.relative(process.cwd(), dist)} is missing: run \`pnpm build\` first`);
    }
  }
  const database = await createBenchDatabase();
  const cleanups = [() => database.drop()];
  let sandbox;
  let api;
  try {
    log(`database ${database.name} (PostgreSQL ${database.serverVersion})`);
    sandbox = await startSandboxProcess();
    cleanups.unshift(() => sandbox.stop());
    const { apiKey, planId } = await seedAccount(database.url, sandbox.url);
    api = await startApiProcess(
      {
        NODE_ENV: 'production',
        DATABASE_URL: database.url,
        PAY_MIGRATE: 'false',
        STRIPE_SECRET_KEY: 'sk_test_bench',
        STRIPE_API_BASE: sandbox.url,
        PAY_RATE_LIMIT: '1000000',
        PAY_WORKER: 'false',
        PAY_LOG_LEVEL: 'warn',
      },
      (process.env.BENCH_API_NODE_ARGS || '').split(' ').filter((arg) => arg !== ''),
    );
    cleanups.unshift(() => api.stop());
    // After the children started: a child inherits this process's affinity, taskset or not.
    const loadAffinity = pinSelf();
    const admin = loadPostgres()(ADMIN_URL, { max: 1, connect_timeout: 10, onnotice: () => undefined });
    cleanups.unshift(() => admin.end({ timeout: 5 }));
    log(
      `sandbox ${sandbox.url} (pid ${sandbox.pid}), API ${api.url} (pid ${api.pid}); ` +
        `${RUNS} run(s) × ${DURATION_S} s at concurrency ${LEVELS.join(', ')} after a ${WARMUP_S} s warm-up; ` +
        `BENCH_PIN ${pinSetting()} (load generator on cores ${loadAffinity ?? 'n/a'})`,
    );

    const agent = createAgent(Math.max(...LEVELS));
    const drive = (concurrency, seconds, label) =>
      drivePayments({
        agent,
        apiUrl: api.url,
        apiKey,
        planId,
        concurrency,
        seconds,
        label,
        shouldStop: () => interrupted,
      });
    if (WARMUP_S > 0) {
      const warm = await drive(Math.min(16, Math.max(...LEVELS)), WARMUP_S, 'warmup');
      checkInterrupted();
      if (warm.samples.length === 0) {
        throw new Error(`no payment succeeded during the warm-up; first failure: ${warm.firstFailure}`);
      }
    }

    const cores = createCoreSampler();
    cores.watch('api', [api.pid, ...childPids(api.pid)]);
    cores.watch('sandbox', [sandbox.pid]);
    cores.watch('load', [process.pid]);
    cores.watch('postgres', await backendPids(admin, database.name));
    cores.start();
    const runsByLevel = new Map(LEVELS.map((level) => [level, []]));
    for (let run = 1; run <= RUNS; run++) {
      for (const concurrency of LEVELS) {
        checkInterrupted();
        await controlPlane(sandbox.url, 'POST', 'reset');
        const metricsBefore = await scrapeMetrics(api.url);
        const cpuBefore = cpuSnapshot(api, sandbox);
        const result = await drive(concurrency, DURATION_S, `r${run}c${concurrency}`);
        const cpuAfter = cpuSnapshot(api, sandbox);
        const metricsAfter = await scrapeMetrics(api.url);
        const [requests, objects] = await Promise.all([
          controlPlane(sandbox.url, 'GET', 'requests'),
          controlPlane(sandbox.url, 'GET', 'ledger'),
        ]);
        // The pool grows with the concurrency: its new backends are watched from now on.
        cores.watch('postgres', await backendPids(admin, database.name));
        checkInterrupted();
        const replay = await driveReplays({
          agent,
          apiUrl: api.url,
          apiKey,
          answered: result.samples,
          concurrency,
          seconds: DURATION_S,
          shouldStop: () => interrupted,
        });
        const figures = {
          ...figuresOfRun(
            result,
            { requests: requests.data, objects: objects.data },
            parseGatewayHistogram(metricsBefore),
            parseGatewayHistogram(metricsAfter),
          ),
          ...eventLoopFigures(metricsAfter),
          ...cpuFigures(cpuBefore, cpuAfter, result.samples.length),
          ...replayFigures(replay),
        };
        runsByLevel.get(concurrency).push(figures);
        log(
          `run ${run} c=${concurrency}: ${figures.payments} payments, ${figures.payments_per_s.toFixed(1)}/s, ` +
            `p50 ${figures.latency_p50_ms?.toFixed(1)} ms, ${figures.failed_requests} failed; ` +
            `event-loop delay p99 ${figures.eventloop_delay_p99_ms?.toFixed(1)} ms; ` +
            `${figures.replays} replays, ${figures.replays_per_s?.toFixed(1)}/s, ${figures.failed_replays} failed`,
        );
        if (result.firstFailure !== null) {
          log(`run ${run} c=${concurrency}: first failure: ${result.firstFailure}`);
        }
        if (replay.firstFailure !== null) {
          log(`run ${run} c=${concurrency}: first failed replay: ${replay.firstFailure}`);
        }
      }
    }
    const coresUsed = cores.stop();
    checkInterrupted();
    agent.destroy();

    return {
      name: process.env.BENCH_NAME || 'api/payments',
      description:
        'POST /api/v1/payments (new subscriber, pm_card_visa) against the sandbox on PostgreSQL' +
        (process.env.BENCH_GATEWAY_LATENCY
          ? `, the sandbox holding each call ${process.env.BENCH_GATEWAY_LATENCY}`
          : ''),
      settings: { duration_s: DURATION_S, runs: RUNS, concurrency: LEVELS, warmup_s: WARMUP_S },
      figures: FIGURES,
      levels: summariseLevels(
        FIGURES,
        LEVELS.map((concurrency) => ({ concurrency, runs: runsByLevel.get(concurrency) })),
      ),
      extra: {
        api_peak_rss_bytes: peakRssBytes(api.pid),
        sandbox_peak_rss_bytes: peakRssBytes(sandbox.pid),
        pinning: pinSetting(),
        cores: coresUsed,
      },
      environment: { postgres_version: database.serverVersion, database: database.name },
    };
  } finally {
    for (const cleanup of cleanups) {
      await cleanup().catch((err) => log(`cleanup failed: ${err && err.message ? err.message : err}`));
    }
  }
}

function printResult(result) {
  const mib = (bytes) => (bytes === null ? 'n/a' : `${(bytes / 2 ** 20).toFixed(0)} MiB`);
  process.stdout.write(
    `${renderResultTable(result)}\n` +
      `API peak RSS (VmHWM): ${mib(result.extra.api_peak_rss_bytes)}; sandbox: ${mib(result.extra.sandbox_peak_rss_bytes)}. ` +
      `PostgreSQL ${result.environment.postgres_version}.\n` +
      "gateway = the sandbox's time answering a payment's calls; pay added = latency − gateway, per payment.\n" +
      `${coreLines(result.extra.cores, result.extra.pinning).join('\n')}\n`,
  );
}

async function main() {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    // The current run ends early and the finally blocks stop the children and drop the database; a
    // second signal skips that.
    process.on(signal, () => {
      if (interrupted) {
        process.exit(130);
      }
      interrupted = true;
      log(`${signal}: stopping after clean-up (again to skip it)`);
    });
  }
  const result = await runBench();
  printResult(result);
  if (process.env.BENCH_JSON) {
    fs.writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(result, null, 2)}\n`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (interrupted) {
      process.exit(130);
    }
    process.stderr.write(`[bench:payments] could not run: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
