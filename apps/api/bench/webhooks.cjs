#!/usr/bin/env node
/*
 * Part of `pnpm bench` (`api/webhooks`): how fast pay's webhook endpoint acknowledges Stripe's events,
 * and how long its workers take to drain a backlog.
 *
 * Set-up: a fresh PostgreSQL database; the Stripe sandbox and the API (node dist/main.js, PostgreSQL,
 * the sandbox as its Stripe, a webhook signing secret, NO worker in it) each in a process of their
 * own; an account, a key and a plan; then BENCH_WEBHOOK_BACKLOG / 5 payments of new subscribers through
 * the API, whose real events at the sandbox (customer created, card attached, intent created, charge
 * and intent succeeded, and the charge's update a second later: six or so per payment; the first
 * BENCH_WEBHOOK_BACKLOG are kept) are the bench's events, pretty-printed as Stripe sends them.
 *
 * Ack: for each concurrency level, BENCH_RUNS runs of BENCH_DURATION_S seconds (levels interleaved run by
 * run) of `POST /api/v1/webhooks/stripe`, each one of those events under a fresh event id, signed at the
 * moment it is sent: a new event for the inbox every time, verified, stored, answered. Nothing applies
 * them (no worker runs), so the figures are the ack path alone.
 *
 * Drain: for each worker count in BENCH_WEBHOOK_WORKERS, a copy of the database as it was after the
 * payments (CREATE DATABASE … TEMPLATE), the backlog's events delivered to an API on it, the API stopped,
 * then that many `pay worker` processes started; timed until no event is pending or failed. The
 * payments are already succeeded (the API answered them), so the handlers confirm what pay knows: the
 * common case of a healthy deployment, where webhooks trail the API's own answers.
 *
 * Figures are printed and written, never judged: the exit code is non-zero only when the bench could
 * not run. Options (environment): BENCH_DURATION_S (6), BENCH_RUNS (3), BENCH_CONCURRENCY ("1,16,64"),
 * BENCH_WEBHOOK_BACKLOG (10000), BENCH_WEBHOOK_WORKERS ("1,2,4"), BENCH_JSON (write the result there),
 * BENCH_ADMIN_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres), BENCH_PIN (processes.cjs:
 * api, sandbox, load, and `worker` for the drain's workers).
 */
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { numberFromEnv, seedAccount } = require('./bench-setup.cjs');
const { createBenchDatabase } = require('./database.cjs');
const {
  API_MAIN,
  ROOT,
  cpuTimeMs,
  peakRssBytes,
  pinSelf,
  pinSetting,
  startApiProcess,
  startSandboxProcess,
} = require('./processes.cjs');
const { percentile, sortedNumbers, summariseLevels, renderResultTable } = require('./summary.cjs');
const {
  cloneDatabase,
  deliver,
  emptyInbox,
  fromWorkers,
  inboxFigures,
  listEvents,
  makePayments,
  newWebhookSecret,
  payloadOf,
  pollUntil,
  startWorker,
} = require('./webhooks-load.cjs');

function listFromEnv(name, fallback) {
  return (process.env[name] || fallback).split(',').map((item) => {
    const n = Number(item);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`${name} must be positive integers separated by commas, got "${item}"`);
    }
    return n;
  });
}

const DURATION_S = numberFromEnv('BENCH_DURATION_S', 6, { min: 0.1, integer: false });
const RUNS = numberFromEnv('BENCH_RUNS', 3, { min: 1, integer: true });
const LEVELS = listFromEnv('BENCH_CONCURRENCY', '1,16,64');
const BACKLOG = numberFromEnv('BENCH_WEBHOOK_BACKLOG', 10_000, { min: 5, integer: true });
const WORKER_COUNTS = listFromEnv('BENCH_WEBHOOK_WORKERS', '1,2,4');
const ADMIN_URL =
  process.env.BENCH_ADMIN_DATABASE_URL ||
  process.env.PAY_TEST_DATABASE_URL ||
  'postgres://postgres@127.0.0.1:5432/postgres';
const STRIPE_KEY = 'sk_test_bench_webhooks';
/** How many requests fill a backlog at once: the bench's highest level, as Stripe's bursts do. */
const FILL_CONCURRENCY = 64;

const FIGURES = [
  { key: 'acks_per_s', label: 'acks/s', unit: 'acks/s', digits: 0 },
  { key: 'ack_p50_ms', label: 'ack p50 ms', unit: 'ms', digits: 2 },
  { key: 'ack_p95_ms', label: 'ack p95 ms', unit: 'ms', digits: 2 },
  { key: 'ack_p99_ms', label: 'ack p99 ms', unit: 'ms', digits: 2 },
  {
    key: 'api_cpu_ms_per_ack',
    label: 'API CPU ms/ack',
    unit: 'ms',
    digits: 2,
    description: "the API process's CPU time (user + system) over the run / acks",
  },
  { key: 'failed_requests', label: 'failed requests', unit: 'requests', digits: 0 },
];

let interrupted = false;

function log(message) {
  process.stderr.write(`[bench:webhooks] ${message}\n`);
}

function checkInterrupted() {
  if (interrupted) {
    throw new Error('interrupted');
  }
}

function apiEnv(databaseUrl, sandboxUrl, secret) {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    PAY_MIGRATE: 'false',
    STRIPE_SECRET_KEY: STRIPE_KEY,
    STRIPE_API_BASE: sandboxUrl,
    STRIPE_WEBHOOK_SECRETS: secret,
    PAY_RATE_LIMIT: '1000000',
    PAY_WORKER: 'false',
    PAY_LOG_LEVEL: 'warn',
  };
}

/** One ack run: `concurrency` senders for `seconds`, each event a template under a fresh id. */
async function driveAcks({ agent, api, secret, templates, concurrency, seconds, label }) {
  const latencies = [];
  let failures = 0;
  let firstFailure = null;
  let seq = 0;
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const cpuBefore = cpuTimeMs(api.pid);
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (process.hrtime.bigint() < deadline && !interrupted) {
      const n = seq++;
      const template = templates[n % templates.length];
      const payload = payloadOf({ ...template, id: `evt_bench${label}x${process.pid}x${n}` });
      const sent = process.hrtime.bigint();
      let res;
      try {
        res = await deliver(agent, api.url, payload, secret);
      } catch (err) {
        failures += 1;
        firstFailure ??= `network: ${err && err.message ? err.message : err}`;
        continue;
      }
      if (res.status === 200) {
        latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
      } else {
        failures += 1;
        firstFailure ??= `${res.status}: ${res.text.slice(0, 300)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuAfter = cpuTimeMs(api.pid);
  const sorted = sortedNumbers(latencies);
  return {
    figures: {
      acks: latencies.length,
      acks_per_s: latencies.length / elapsedS,
      ack_p50_ms: percentile(sorted, 0.5),
      ack_p95_ms: percentile(sorted, 0.95),
      ack_p99_ms: percentile(sorted, 0.99),
      api_cpu_ms_per_ack:
        cpuBefore === null || cpuAfter === null || latencies.length === 0
          ? null
          : (cpuAfter - cpuBefore) / latencies.length,
      failed_requests: failures,
    },
    firstFailure,
  };
}

/** One drain: the backlog delivered to a copy of the database, then `workers` workers timed until done. */
async function drainOnce({ template, sandboxUrl, secret, payloads, workers }) {
  const clone = await cloneDatabase(ADMIN_URL, template, `${template}_drain${workers}`);
  const cleanups = [() => clone.drop()];
  try {
    const api = await startApiProcess(apiEnv(clone.url, sandboxUrl, secret));
    cleanups.unshift(() => api.stop());
    const agent = new http.Agent({ keepAlive: true, maxSockets: FILL_CONCURRENCY });
    const fillStarted = process.hrtime.bigint();
    let refused = 0;
    await fromWorkers(payloads.length, FILL_CONCURRENCY, async (i) => {
      const res = await deliver(agent, api.url, payloads[i], secret).catch(() => ({ status: 0 }));
      if (res.status !== 200) {
        refused += 1;
      }
    });
    const fillS = Number(process.hrtime.bigint() - fillStarted) / 1e9;
    agent.destroy();
    await api.stop();
    if (refused > 0) {
      throw new Error(`${refused} of the backlog's ${payloads.length} deliveries were not acknowledged`);
    }
    checkInterrupted();
    const before = await inboxFigures(clone.url);
    log(
      `drain with ${workers} worker(s): backlog ${JSON.stringify(before.counts)} stored in ${fillS.toFixed(1)} s`,
    );

    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: clone.url,
      PAY_MIGRATE: 'false',
      STRIPE_SECRET_KEY: STRIPE_KEY,
      STRIPE_API_BASE: sandboxUrl,
      PAY_LOG_LEVEL: 'warn',
      // The backlog alone is timed: the sandbox's later events (the ack runs') are not fetched into it.
      PAY_WEBHOOK_CATCH_UP: 'false',
    };
    const started = Date.now();
    const procs = Array.from({ length: workers }, () => startWorker(env));
    cleanups.unshift(() => Promise.all(procs.map((p) => p.stop())));
    const done = await pollUntil(
      async () => {
        for (const p of procs) {
          if (p.child.exitCode !== null || p.child.signalCode !== null) {
            throw new Error(`a pay worker exited:\n${p.output()}`);
          }
        }
        checkInterrupted();
        return inboxFigures(clone.url);
      },
      (figures) => (figures.counts.pending ?? 0) === 0 && (figures.counts.failed ?? 0) === 0,
      { what: `draining ${payloads.length} events with ${workers} worker(s)` },
    );
    const wallS = (Date.now() - started) / 1000;
    const drainS =
      done.firstProcessedAt === null || done.lastProcessedAt === null
        ? null
        : (done.lastProcessedAt.getTime() - done.firstProcessedAt.getTime()) / 1000;
    const handled = (done.counts.processed ?? 0) + (done.counts.ignored ?? 0);
    return {
      workers,
      events: payloads.length,
      drain_s: drainS,
      events_per_s: drainS !== null && drainS > 0 ? handled / drainS : null,
      wall_s: wallS,
      backlog_fill_s: fillS,
      statuses: done.counts,
    };
  } finally {
    for (const cleanup of cleanups) {
      await cleanup().catch((err) => log(`cleanup failed: ${err && err.message ? err.message : err}`));
    }
  }
}

async function runBench() {
  for (const dist of [API_MAIN, path.join(ROOT, 'apps', 'cli', 'dist', 'commands', 'worker.js')]) {
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
    const { apiKey, planId } = await seedAccount(database.url, sandbox.url, {
      stripeKey: STRIPE_KEY,
      name: 'bench webhooks',
    });
    const secret = newWebhookSecret();
    api = await startApiProcess(
      apiEnv(database.url, sandbox.url, secret),
      (process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean),
    );
    cleanups.unshift(() => api.stop());
    // After the children started: a child inherits this process's affinity, taskset or not.
    const loadAffinity = pinSelf();
    log(`BENCH_PIN ${pinSetting()} (load generator on cores ${loadAffinity ?? 'n/a'})`);

    // The events: real ones, from payments pay made.
    const payments = Math.ceil(BACKLOG / 5);
    const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(FILL_CONCURRENCY, ...LEVELS) });
    let started = Date.now();
    await makePayments({ agent, apiUrl: api.url, apiKey, planId, count: payments, concurrency: 16 });
    const events = (await listEvents(sandbox.url, STRIPE_KEY)).slice(0, BACKLOG);
    if (events.length < BACKLOG) {
      throw new Error(`the sandbox holds ${events.length} events, fewer than the backlog of ${BACKLOG}`);
    }
    const payloads = events.map(payloadOf);
    const payloadBytes = payloads.reduce((sum, p) => sum + Buffer.byteLength(p), 0) / payloads.length;
    log(
      `${payments} payments in ${((Date.now() - started) / 1000).toFixed(1)} s; ${events.length} events, ` +
        `${payloadBytes.toFixed(0)} bytes each on average`,
    );
    checkInterrupted();

    // Ack: the API on the bench database; the drains use copies of it as it is now.
    const runsByLevel = new Map(LEVELS.map((level) => [level, []]));
    for (let run = 1; run <= RUNS; run++) {
      for (const concurrency of LEVELS) {
        checkInterrupted();
        const { figures, firstFailure } = await driveAcks({
          agent,
          api,
          secret,
          templates: events,
          concurrency,
          seconds: DURATION_S,
          label: `r${run}c${concurrency}`,
        });
        runsByLevel.get(concurrency).push(figures);
        log(
          `run ${run} c=${concurrency}: ${figures.acks} acks, ${figures.acks_per_s.toFixed(0)}/s, ` +
            `p50 ${figures.ack_p50_ms?.toFixed(2)} ms, p99 ${figures.ack_p99_ms?.toFixed(2)} ms, ${figures.failed_requests} failed` +
            (firstFailure === null ? '' : `; first failure: ${firstFailure}`),
        );
      }
    }
    agent.destroy();
    const apiPeakRss = peakRssBytes(api.pid);
    await api.stop();
    checkInterrupted();

    // Drain: the inbox from before the ack runs, as a template for one copy per worker count.
    const drains = [];
    const template = `${database.name}_tpl`;
    const tpl = await cloneBeforeAcks(database, template);
    cleanups.unshift(() => tpl.drop());
    for (const workers of WORKER_COUNTS) {
      started = Date.now();
      const drain = await drainOnce({ template, sandboxUrl: sandbox.url, secret, payloads, workers });
      drains.push(drain);
      log(
        `drain with ${workers} worker(s): ${drain.events} events in ${drain.drain_s?.toFixed(1)} s ` +
          `(${drain.events_per_s?.toFixed(0)}/s), ${drain.wall_s.toFixed(1)} s from the workers' start; ` +
          `${JSON.stringify(drain.statuses)}`,
      );
    }

    return {
      name: 'api/webhooks',
      description:
        'POST /api/v1/webhooks/stripe (a real event under a fresh id, signed now; no worker): verify, store, answer',
      settings: {
        duration_s: DURATION_S,
        runs: RUNS,
        concurrency: LEVELS,
        backlog: BACKLOG,
        workers: WORKER_COUNTS,
      },
      figures: FIGURES,
      levels: summariseLevels(
        FIGURES,
        LEVELS.map((concurrency) => ({ concurrency, runs: runsByLevel.get(concurrency) })),
      ),
      extra: {
        payload_bytes_mean: Math.round(payloadBytes),
        drain: drains,
        api_peak_rss_bytes: apiPeakRss,
        pinning: pinSetting(),
      },
      environment: { postgres_version: database.serverVersion, database: database.name },
    };
  } finally {
    for (const cleanup of cleanups) {
      await cleanup().catch((err) => log(`cleanup failed: ${err && err.message ? err.message : err}`));
    }
  }
}

/**
 * The ack runs filled the bench database's inbox with their own events; the drains start from the
 * state before them: the payments, and an empty inbox. So a copy with its inbox emptied is the drains'
 * template (the API is stopped by now: a template must have no connections).
 */
async function cloneBeforeAcks(database, template) {
  const copy = await cloneDatabase(ADMIN_URL, database.name, template);
  await emptyInbox(copy.url);
  return copy;
}

function printResult(result) {
  process.stdout.write(`${renderResultTable(result)}\n${drainLines(result).join('\n')}\n`);
}

/** The drains as printed lines (scripts/bench.cjs prints the same). */
function drainLines(result) {
  return result.extra.drain.map(
    (d) =>
      `drain of ${d.events} events with ${d.workers} worker${d.workers === 1 ? '' : 's'}: ` +
      `${d.drain_s === null ? 'n/a' : d.drain_s.toFixed(1)} s ` +
      `(${d.events_per_s === null ? 'n/a' : d.events_per_s.toFixed(0)} events/s), ${d.wall_s.toFixed(1)} s from start-up`,
  );
}

async function main() {
  for (const signal of ['SIGINT', 'SIGTERM']) {
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

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      if (interrupted) {
        process.exit(130);
      }
      process.stderr.write(`[bench:webhooks] could not run: ${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    },
  );
}

module.exports = { drainLines };
