#!/usr/bin/env node
/*
 * Part of `pnpm bench` (`api/payments-stripe-latency-open`), RELIABILITY.md J1 as written: POST
 * /api/v1/payments at a fixed arrival rate against a sandbox that answers as slowly as Stripe does
 * (a seeded log-normal, median 300 ms, p99 1.5 s). With the gateway that slow, the figure that matters
 * is what pay adds on top of it, and whether anything queues up behind the gateway (a pool, a lock, the
 * event loop). `api/payments-stripe-latency` runs payments.cjs' closed-loop levels with the same latency.
 *
 * Set-up as in payments.cjs: a fresh PostgreSQL database, the API (node dist/main.js, no worker, rate
 * limit out of the way) and the sandbox each in a process of their own, an account, a service key and a
 * plan made through @pay/runtime's services. The sandbox is started by latency-sandbox.cjs, with the
 * latency and a request log long enough for a whole run.
 *
 * The load is OPEN-LOOP: request i is sent at start + i / rate whatever the earlier ones are doing, as
 * a shop's customers arrive, each a new subscriber with pm_card_visa (4 Stripe calls: customer, attach,
 * intent, confirm). A closed loop would wait for pay and so hide a queue; here a queue shows as the
 * number of requests in flight growing over the run. Little's law says a steady system holds
 * rate × mean latency in flight; the figures give that, the measured mean, and the mean early in the
 * run (after the ramp-up) against the mean at its end.
 *
 * pay's added latency is per payment: its latency at the client minus the sandbox's own time answering
 * the calls pay made for it (the request log's durationMs, which includes the injected delay;
 * gateway-time.cjs matches calls to payments). So it holds pay's HTTP client and the loopback too.
 *
 * Figures are printed and written, never judged here (targets.cjs reads J1's off the report): the exit
 * code is non-zero only when the bench could not run.
 *
 * Options (environment): BENCH_J1_RATE (payments/s, default 50), BENCH_J1_SECONDS (the sending window
 * of one run; default BENCH_DURATION_S × 5 and at least 10 s; J1 asks for 120), BENCH_J1_LATENCY (the
 * sandbox's --latency form, default lognormal:median=300,sigma=0.69,seed=42), BENCH_RUNS (default 3),
 * BENCH_WARMUP_S (seconds at the rate before the runs, default min(2, BENCH_DURATION_S)), BENCH_JSON,
 * BENCH_API_NODE_ARGS, BENCH_PIN, BENCH_ADMIN_DATABASE_URL (as payments.cjs).
 */
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { controlPlane, numberFromEnv, scrapeMetrics, seedAccount } = require('./bench-setup.cjs');
const { createBenchDatabase } = require('./database.cjs');
const { parseGatewayHistogram } = require('./gateway-time.cjs');
const { cpuFigures, cpuSnapshot, eventLoopFigures, figuresOfRun } = require('./payment-figures.cjs');
const {
  API_MAIN,
  ROOT,
  peakRssBytes,
  pinnedCommand,
  pinSelf,
  pinSetting,
  startApiProcess,
} = require('./processes.cjs');
const { percentile, renderResultTable, sortedNumbers, summariseLevels } = require('./summary.cjs');

const NAME = 'api/payments-stripe-latency-open';
const SANDBOX_SCRIPT = path.join(__dirname, 'latency-sandbox.cjs');
const START_TIMEOUT_MS = 60_000;
/** A request unanswered this long counts as a `timeout` failure: a hang guard, not a target. */
const REQUEST_TIMEOUT_MS = 120_000;
/** How often the number of requests in flight is sampled. */
const INFLIGHT_SAMPLE_MS = 50;
/** Stripe calls per new subscriber's payment (customer, attach, intent, confirm), to size the log. */
const CALLS_PER_PAYMENT = 4;

const DURATION_S = numberFromEnv('BENCH_DURATION_S', 6, { min: 0.1, integer: false });
const RATE = numberFromEnv('BENCH_J1_RATE', 50, { min: 0.1, integer: false });
const SECONDS = numberFromEnv('BENCH_J1_SECONDS', Math.max(10, DURATION_S * 5), { min: 0.1, integer: false });
const RUNS = numberFromEnv('BENCH_RUNS', 3, { min: 1, integer: true });
const WARMUP_S = numberFromEnv('BENCH_WARMUP_S', Math.min(2, DURATION_S), { min: 0, integer: false });
const LATENCY = process.env.BENCH_J1_LATENCY || 'lognormal:median=300,sigma=0.69,seed=42';

/** The figures of one run, in the order the table prints them. */
const FIGURES = [
  {
    key: 'sent_per_s',
    label: 'sent/s (offered)',
    unit: 'requests/s',
    digits: 1,
    description:
      'requests sent ÷ the sending window: the open loop kept its rate when this is the rate asked for',
  },
  {
    key: 'payments_per_s',
    label: 'payments/s',
    unit: 'payments/s',
    digits: 1,
    description: 'succeeded payments ÷ the sending window',
  },
  { key: 'latency_p50_ms', label: 'end-to-end p50 ms', unit: 'ms', digits: 1 },
  { key: 'latency_p95_ms', label: 'end-to-end p95 ms', unit: 'ms', digits: 1 },
  { key: 'latency_p99_ms', label: 'end-to-end p99 ms', unit: 'ms', digits: 1 },
  {
    key: 'gateway_p50_ms',
    label: 'gateway p50 ms (per payment)',
    unit: 'ms',
    digits: 1,
    description: "per payment, the sandbox's own time answering its 4 calls (injected delay included)",
  },
  { key: 'gateway_p99_ms', label: 'gateway p99 ms (per payment)', unit: 'ms', digits: 1 },
  {
    key: 'latency_p99_over_gateway_p99_ms',
    label: 'end-to-end p99 − gateway p99 ms',
    unit: 'ms',
    digits: 1,
    description: 'J1: at most 100 ms',
  },
  {
    key: 'pay_added_p50_ms',
    label: 'pay added p50 ms',
    unit: 'ms',
    digits: 1,
    description: "per payment, its latency minus the sandbox's time for its calls; J1: at most 10 ms",
  },
  {
    key: 'pay_added_p99_ms',
    label: 'pay added p99 ms',
    unit: 'ms',
    digits: 1,
    description: 'J1: at most 50 ms',
  },
  { key: 'pay_added_mean_ms', label: 'pay added mean ms (excl. its Stripe client)', unit: 'ms', digits: 1 },
  {
    key: 'call_p50_ms',
    label: 'one Stripe call p50 ms',
    unit: 'ms',
    digits: 0,
    description: "the sandbox's time per call: the configured distribution as drawn (300 / 1,500 for J1's)",
  },
  { key: 'call_p99_ms', label: 'one Stripe call p99 ms', unit: 'ms', digits: 0 },
  {
    key: 'inflight_little',
    label: "in flight, Little's law (rate × mean)",
    unit: 'requests',
    digits: 1,
    description: 'the sending rate × the mean end-to-end latency: what a system without a queue holds',
  },
  {
    key: 'inflight_mean',
    label: 'in flight, mean',
    unit: 'requests',
    digits: 1,
    description: 'sampled every 50 ms over the sending window, its ramp-up from 0 included',
  },
  {
    key: 'inflight_early',
    label: 'in flight, early (after ramp-up)',
    unit: 'requests',
    digits: 1,
    description:
      "mean over the first fifth of the window after its ramp-up (the run's end-to-end p99); against inflight_late: growth means a queue",
  },
  { key: 'inflight_late', label: 'in flight, late (last fifth)', unit: 'requests', digits: 1 },
  { key: 'inflight_max', label: 'in flight, max', unit: 'requests', digits: 0 },
  {
    key: 'sender_lag_p99_ms',
    label: 'load generator send lag p99 ms',
    unit: 'ms',
    digits: 1,
    description:
      'how late the open loop sent against its schedule: large means the generator, not pay, lagged',
  },
  {
    key: 'eventloop_delay_p99_ms',
    label: 'API event-loop delay p99 ms',
    unit: 'ms',
    digits: 1,
  },
  {
    key: 'api_cpu_ms_per_payment',
    label: 'API CPU ms/payment',
    unit: 'ms',
    digits: 2,
    description: "the API process's CPU time (user + system) over the run / payments",
  },
  { key: 'machine_cpu_busy_share', label: 'machine CPU busy share', unit: 'fraction', digits: 2 },
  { key: 'gateway_calls_per_payment', label: 'gateway calls/payment', unit: 'calls', digits: 0 },
  { key: 'payments', label: 'payments', unit: 'payments', digits: 0 },
  {
    key: 'failed_requests',
    label: 'failed requests',
    unit: 'requests',
    digits: 0,
    description: 'anything but 201 succeeded; by status in failures_by_kind',
  },
  { key: 'failed_5xx', label: 'of which 5xx', unit: 'requests', digits: 0 },
  {
    key: 'attributed_share',
    label: 'share with gateway time',
    unit: 'fraction',
    digits: 2,
    description: 'payments whose every gateway call was found in the sandbox log',
  },
];

/** Set by SIGINT/SIGTERM: the load stops and the bench cleans up instead of finishing. */
let interrupted = false;

function checkInterrupted() {
  if (interrupted) {
    throw new Error('interrupted');
  }
}

function log(message) {
  process.stderr.write(`[bench:payments-stripe-latency] ${message}\n`);
}

/**
 * latency-sandbox.cjs on the sandbox's cores (BENCH_PIN), resolving once it prints its URL. Its own
 * spawn rather than processes.cjs' startSandboxProcess, which runs the sandbox's CLI: the CLI has no
 * flag for the request log's length.
 */
async function startLatencySandbox(latency, requestLogLimit) {
  const { command, args } = pinnedCommand('sandbox', [SANDBOX_SCRIPT, latency, String(requestLogLimit)]);
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk) => (output = (output + chunk.toString()).slice(-16_384)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let stopping;
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) {
      stopping ??= (async () => {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      })();
    }
    return stopping ?? exited.then(() => undefined);
  };
  const url = await new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`the sandbox did not listen within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    timer.unref();
    child.stdout.on('data', (chunk) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    exited.then(({ code, signal }) =>
      reject(
        new Error(
          `the sandbox exited (${signal ?? `exit code ${code}`}) before listening:\n${seen}${output}`,
        ),
      ),
    );
  });
  return { pid: child.pid, url, stop };
}

/** One POST with a JSON body over node:http (cheaper per request than fetch); resolves with status and text. */
function postJson(agent, url, headers, body) {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/**
 * Sends `rate × seconds` payments, request i at start + i / rate, each without waiting for any other,
 * then waits for every answer. Resolves with the succeeded payments (id, latency from its send), the
 * failures by status (`network`, `timeout` apart), the in-flight samples and how late each send was.
 */
async function openLoop({ agent, apiUrl, apiKey, planId, rate, seconds, label }) {
  const url = `${apiUrl}/api/v1/payments`;
  const total = Math.max(1, Math.round(rate * seconds));
  const samples = [];
  const failures = {};
  const lags = [];
  const inflight = [];
  let firstFailure = null;
  let inFlight = 0;
  let maxInFlight = 0;
  const fail = (kind, detail) => {
    failures[kind] = (failures[kind] ?? 0) + 1;
    firstFailure ??= `${kind}: ${detail}`;
  };

  const one = async (n) => {
    const key = `bench-j1-${label}-${process.pid}-${String(n).padStart(8, '0')}`;
    const body = {
      user_id: `bench-j1-user-${label}-${process.pid}-${n}`,
      plan_id: planId,
      payment_method_id: 'pm_card_visa',
    };
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const sent = nowMs();
    try {
      const res = await postJson(
        agent,
        url,
        { authorization: `Bearer ${apiKey}`, 'idempotency-key': key },
        body,
      );
      const latencyMs = nowMs() - sent;
      let payment = null;
      try {
        payment = JSON.parse(res.text);
      } catch {
        // Counted below as a failure with the raw text.
      }
      if (res.status === 201 && payment !== null && payment.status === 'succeeded') {
        samples.push({ paymentId: payment.id, latencyMs });
      } else {
        fail(String(res.status), res.text.slice(0, 500));
      }
    } catch (err) {
      const message = err && err.message ? err.message : String(err);
      fail(/^no answer within/.test(message) ? 'timeout' : 'network', message);
    } finally {
      inFlight -= 1;
    }
  };

  const started = nowMs();
  const sampler = setInterval(
    () => inflight.push({ atMs: nowMs() - started, n: inFlight }),
    INFLIGHT_SAMPLE_MS,
  );
  const pending = [];
  let sent = 0;
  await new Promise((resolve) => {
    // Paced against the start, not the previous send, so a late tick sends what is due at once rather
    // than lowering the rate.
    const tick = () => {
      const elapsed = nowMs() - started;
      while (sent < total && (sent * 1000) / rate <= elapsed) {
        lags.push(elapsed - (sent * 1000) / rate);
        pending.push(one(sent));
        sent += 1;
      }
      if (sent >= total || interrupted) {
        resolve();
        return;
      }
      setTimeout(tick, Math.max(0, (sent * 1000) / rate - (nowMs() - started)));
    };
    tick();
  });
  const windowMs = nowMs() - started;
  await Promise.all(pending);
  clearInterval(sampler);
  return {
    sent,
    windowMs,
    elapsedMs: nowMs() - started,
    samples,
    failures,
    firstFailure,
    lags,
    maxInFlight,
    inflight: inflight.filter((s) => s.atMs <= windowMs),
  };
}

/**
 * The in-flight figures of a run: the mean, Little's law's expectation, and early against late. In an
 * open loop the count ramps up from 0 over the first latency or so; "early" is the first fifth of the
 * window after that ramp (the run's end-to-end p99, at most half the window), "late" the last fifth.
 */
function inflightFigures(run, latencies) {
  const mean = (xs) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
  const meanLatencyMs = mean(latencies);
  const rampMs = Math.min(run.windowMs / 2, percentile(sortedNumbers(latencies), 0.99) || 0);
  const fifth = (run.windowMs - rampMs) / 5;
  const within = (from, to) => run.inflight.filter((s) => s.atMs >= from && s.atMs < to).map((s) => s.n);
  const sentPerS = run.sent / (run.windowMs / 1000);
  return {
    sent_per_s: sentPerS,
    inflight_little: meanLatencyMs === null ? null : (sentPerS * meanLatencyMs) / 1000,
    inflight_mean: mean(run.inflight.map((s) => s.n)),
    inflight_early: mean(within(rampMs, rampMs + fifth)),
    inflight_late: mean(within(run.windowMs - fifth, run.windowMs + 1)),
    inflight_max: run.maxInFlight,
    sender_lag_p99_ms: percentile(sortedNumbers(run.lags), 0.99),
  };
}

/** The sandbox's time per call over the run: the latency distribution as drawn. */
function callFigures(requests) {
  const sorted = sortedNumbers(requests.map((r) => r.durationMs));
  const orNull = (v) => (Number.isFinite(v) ? v : null);
  return { call_p50_ms: orNull(percentile(sorted, 0.5)), call_p99_ms: orNull(percentile(sorted, 0.99)) };
}

async function runBench() {
  for (const dist of [
    API_MAIN,
    path.join(ROOT, 'packages', 'runtime', 'dist', 'index.js'),
    path.join(ROOT, 'packages', 'stripe-sandbox', 'dist', 'index.js'),
  ]) {
    if (!fs.existsSync(dist)) {
      throw new Error(`${path.relative(process.cwd(), dist)} is missing: run \`pnpm build\` first`);
    }
  }
  // One run's calls, the warm-up's, and room: the log must hold every call of a run (reset between runs).
  const requestLogLimit = Math.max(
    10_000,
    Math.ceil(CALLS_PER_PAYMENT * RATE * (Math.max(SECONDS, WARMUP_S) + 10) * 1.5),
  );
  const database = await createBenchDatabase();
  const cleanups = [() => database.drop()];
  try {
    log(`database ${database.name} (PostgreSQL ${database.serverVersion})`);
    const sandbox = await startLatencySandbox(LATENCY, requestLogLimit);
    cleanups.unshift(() => sandbox.stop());
    const { apiKey, planId } = await seedAccount(database.url, sandbox.url);
    const api = await startApiProcess(
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
    const loadAffinity = pinSelf();
    log(
      `sandbox ${sandbox.url} (pid ${sandbox.pid}, latency ${LATENCY}), API ${api.url} (pid ${api.pid}); ` +
        `${RUNS} run(s) of ${SECONDS} s at ${RATE} payments/s (open loop) after a ${WARMUP_S} s warm-up; ` +
        `BENCH_PIN ${pinSetting()} (load generator on cores ${loadAffinity ?? 'n/a'})`,
    );
    // No cap on sockets: an open loop must never queue in its own client.
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    cleanups.unshift(async () => agent.destroy());
    const drive = (seconds, label) =>
      openLoop({ agent, apiUrl: api.url, apiKey, planId, rate: RATE, seconds, label });

    if (WARMUP_S > 0) {
      const warm = await drive(WARMUP_S, 'warmup');
      checkInterrupted();
      if (warm.samples.length === 0) {
        throw new Error(`no payment succeeded during the warm-up; first failure: ${warm.firstFailure}`);
      }
    }

    const runs = [];
    for (let run = 1; run <= RUNS; run++) {
      checkInterrupted();
      await controlPlane(sandbox.url, 'POST', 'reset');
      const metricsBefore = await scrapeMetrics(api.url);
      const cpuBefore = cpuSnapshot(api, sandbox);
      const result = await drive(SECONDS, `r${run}`);
      const cpuAfter = cpuSnapshot(api, sandbox);
      const metricsAfter = await scrapeMetrics(api.url);
      checkInterrupted();
      // Customers only: the one link gateway-time.cjs needs from the ledger (the call that made a cus_).
      const [requests, objects] = await Promise.all([
        controlPlane(sandbox.url, 'GET', 'requests'),
        controlPlane(sandbox.url, 'GET', 'ledger?kind=customer'),
      ]);
      const base = figuresOfRun(
        { samples: result.samples, failures: result.failures, elapsedMs: result.windowMs },
        { requests: requests.data, objects: objects.data },
        parseGatewayHistogram(metricsBefore),
        parseGatewayHistogram(metricsAfter),
      );
      const figures = {
        ...base,
        latency_p99_over_gateway_p99_ms:
          base.latency_p99_ms === null || base.gateway_p99_ms === null
            ? null
            : base.latency_p99_ms - base.gateway_p99_ms,
        failed_5xx: Object.entries(result.failures)
          .filter(([kind]) => /^5\d\d$/.test(kind))
          .reduce((sum, [, n]) => sum + n, 0),
        ...callFigures(requests.data),
        ...inflightFigures(
          result,
          result.samples.map((sample) => sample.latencyMs),
        ),
        ...eventLoopFigures(metricsAfter),
        ...cpuFigures(cpuBefore, cpuAfter, result.samples.length),
        rate_per_s: RATE,
        sent: result.sent,
        drain_after_window_ms: result.elapsedMs - result.windowMs,
      };
      runs.push(figures);
      const f = (v, d = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : 'n/a');
      log(
        `run ${run}: ${figures.payments} of ${result.sent} payments, ${f(figures.payments_per_s)}/s; ` +
          `end-to-end p50 ${f(figures.latency_p50_ms)} p99 ${f(figures.latency_p99_ms)} ms, ` +
          `gateway p99 ${f(figures.gateway_p99_ms)} ms, pay added p50 ${f(figures.pay_added_p50_ms)} p99 ${f(figures.pay_added_p99_ms)} ms; ` +
          `in flight ${f(figures.inflight_early)} → ${f(figures.inflight_late)} (Little ${f(figures.inflight_little)}, max ${figures.inflight_max}); ` +
          `${figures.failed_requests} failed (${figures.failed_5xx} 5xx)`,
      );
      if (result.firstFailure !== null) {
        log(`run ${run}: first failure: ${result.firstFailure}`);
      }
    }
    checkInterrupted();
    return {
      name: NAME,
      description:
        `POST /api/v1/payments open-loop at ${RATE}/s against the sandbox with Stripe-like latency (${LATENCY}); ` +
        'level c = the offered rate, payments/s',
      settings: {
        duration_s: SECONDS,
        runs: RUNS,
        concurrency: [RATE],
        rate_per_s: RATE,
        warmup_s: WARMUP_S,
        latency: LATENCY,
        request_log_limit: requestLogLimit,
      },
      figures: FIGURES,
      levels: summariseLevels(FIGURES, [{ concurrency: RATE, runs }]),
      extra: {
        api_peak_rss_bytes: peakRssBytes(api.pid),
        sandbox_peak_rss_bytes: peakRssBytes(sandbox.pid),
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

/** The lines printed under the table (scripts/bench.cjs prints the same). */
function latencyLines(result) {
  const mib = (bytes) => (bytes === null ? 'n/a' : `${(bytes / 2 ** 20).toFixed(0)} MiB`);
  const failures = result.levels[0].runs.map((run) => JSON.stringify(run.failures_by_kind));
  return [
    `API peak RSS (VmHWM): ${mib(result.extra.api_peak_rss_bytes)}; sandbox: ${mib(result.extra.sandbox_peak_rss_bytes)}.`,
    `failures by status, per run: ${failures.join(' ')}`,
    "gateway = the sandbox's time answering a payment's calls (injected delay included); pay added = end-to-end − gateway, per payment.",
    "in flight: Little's law says rate × mean latency for a system without a queue; late well above early means requests queued behind the gateway.",
  ];
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
  process.stdout.write(`${renderResultTable(result)}\n${latencyLines(result).join('\n')}\n`);
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
      process.stderr.write(
        `[bench:payments-stripe-latency] could not run: ${err && err.stack ? err.stack : err}\n`,
      );
      process.exit(1);
    },
  );
}

module.exports = { latencyLines };
