#!/usr/bin/env node
/*
 * `pnpm bench`: how many create-and-confirm PaymentIntents per second the sandbox sustains, so pay's own
 * benchmarks know it is never their bottleneck. Runs against the built dist/ (run `pnpm build` first).
 *
 * The sandbox runs in a child process (bench/sandbox-process.cjs); this process drives it with the real
 * stripe SDK, one `paymentIntents.create({ confirm: true, payment_method: 'pm_card_visa' })` per request,
 * each with its own Idempotency-Key, at concurrency 1, 16 and 64. It prints requests/s and latency
 * percentiles per level, and the sandbox's CPU time per request: its inverse is the rate one core
 * sustains, whatever the load generator managed. Numbers are reported, never judged: the exit code is
 * non-zero only when the bench could not run at all.
 *
 * Options (environment): BENCH_SECONDS (per level, default 4), BENCH_CONCURRENCY (default "1,16,64").
 */
'use strict';

const { fork } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const DIST = path.join(__dirname, '..', 'dist', 'index.js');
const SECONDS = Number(process.env.BENCH_SECONDS || 4);
const LEVELS = (process.env.BENCH_CONCURRENCY || '1,16,64').split(',').map(Number);
const WARMUP_SECONDS = 1;
const RUN_ID = Date.now().toString(36);

function startSandboxProcess() {
  const child = fork(path.join(__dirname, 'sandbox-process.cjs'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const pending = new Map();
  child.on('message', (message) => {
    if (message.type === 'cpu' && pending.has(message.id)) {
      pending.get(message.id)(message);
      pending.delete(message.id);
    }
  });
  const ready = new Promise((resolve, reject) => {
    child.once('message', (message) =>
      message.type === 'ready' ? resolve(message.url) : reject(new Error('unexpected message')),
    );
    child.once('exit', (code) =>
      reject(new Error(`the sandbox process exited with code ${code} before it was ready`)),
    );
  });
  return {
    pid: child.pid,
    ready,
    cpu() {
      const id = ++nextId;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ type: 'cpu', id });
      });
    },
    stop() {
      return new Promise((resolve) => {
        child.once('exit', resolve);
        child.send({ type: 'stop' });
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      });
    },
  };
}

function percentile(sorted, q) {
  if (sorted.length === 0) {
    return NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Runs `concurrency` workers issuing create+confirm back to back until `seconds` have passed. */
async function drive(stripe, concurrency, seconds, label) {
  const latencies = [];
  let errors = 0;
  let unexpected = 0;
  let firstError = null;
  let seq = 0;
  const deadline = performance.now() + seconds * 1000;
  async function worker() {
    while (performance.now() < deadline) {
      const idempotencyKey = `bench-${RUN_ID}-${label}-${seq++}`;
      const started = performance.now();
      try {
        const intent = await stripe.paymentIntents.create(
          {
            amount: 2000,
            currency: 'usd',
            payment_method: 'pm_card_visa',
            confirm: true,
            // A card-only flow with no redirect: no return_url needed (SANDBOX.md §4.3).
            automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
          },
          { idempotencyKey },
        );
        latencies.push(performance.now() - started);
        if (intent.status !== 'succeeded') {
          unexpected += 1;
        }
      } catch (err) {
        errors += 1;
        firstError = firstError || err;
      }
    }
  }
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { elapsedMs: performance.now() - started, latencies, errors, unexpected, firstError };
}

function format(value, digits = 1) {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function printTable(rows) {
  const header = [
    'concurrency',
    'requests',
    'req/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'errors',
    'sandbox CPU µs/req',
    'req/s per sandbox core',
    'client CPU µs/req',
  ];
  const lines = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...lines.map((line) => String(line[i]).length)));
  const render = (line) => line.map((cell, i) => String(cell).padStart(widths[i])).join('  ');
  process.stdout.write(`${render(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const row of rows) {
    process.stdout.write(`${render(row)}\n`);
  }
}

async function main() {
  if (!fs.existsSync(DIST)) {
    process.stderr.write(
      `[bench] ${path.relative(process.cwd(), DIST)} is missing: run \`pnpm build\` first\n`,
    );
    return 1;
  }
  const Stripe = require('stripe');
  const sandbox = startSandboxProcess();
  const url = new URL(await sandbox.ready);
  const stripe = new Stripe('sk_test_bench', {
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    maxNetworkRetries: 0,
    telemetry: false,
    // Enough kept-alive sockets for the highest level, reused across requests as a real client does.
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: Math.max(...LEVELS) }),
  });
  process.stdout.write(
    `[bench] sandbox at ${url.origin} (pid ${sandbox.pid}), node ${process.version}, ${require('node:os').cpus().length} cores, ` +
      `${SECONDS} s per level after a ${WARMUP_SECONDS} s warm-up\n`,
  );

  try {
    await drive(stripe, 16, WARMUP_SECONDS, 'warmup');
    const rows = [];
    for (const concurrency of LEVELS) {
      // Each level starts from an empty sandbox, so the objects of the previous one (and the garbage
      // collector's work on them) do not weigh on its numbers.
      await fetch(`${url.origin}/_sandbox/reset`, { method: 'POST' }).then((res) => res.arrayBuffer());
      const cpuBefore = await sandbox.cpu();
      const clientBefore = process.cpuUsage();
      const result = await drive(stripe, concurrency, SECONDS, `c${concurrency}`);
      const clientCpu = process.cpuUsage(clientBefore);
      const cpuAfter = await sandbox.cpu();
      const done = result.latencies.length;
      const sorted = Float64Array.from(result.latencies).sort();
      const sandboxMicros = done > 0 ? (cpuAfter.cpuMicros - cpuBefore.cpuMicros) / done : NaN;
      rows.push([
        concurrency,
        done,
        format(done / (result.elapsedMs / 1000), 0),
        format(percentile(sorted, 0.5), 2),
        format(percentile(sorted, 0.95), 2),
        format(percentile(sorted, 0.99), 2),
        result.errors + result.unexpected,
        format(sandboxMicros, 0),
        format(1e6 / sandboxMicros, 0),
        format(done > 0 ? (clientCpu.user + clientCpu.system) / done : NaN, 0),
      ]);
      if (result.firstError) {
        process.stderr.write(
          `[bench] c=${concurrency}: ${result.errors} errors, first: ${result.firstError.message}\n`,
        );
      }
      if (result.unexpected > 0) {
        process.stderr.write(
          `[bench] c=${concurrency}: ${result.unexpected} intents did not end succeeded\n`,
        );
      }
    }
    printTable(rows);
    const { rss } = await sandbox.cpu();
    process.stdout.write(
      `[bench] sandbox RSS at the end: ${(rss / 2 ** 20).toFixed(0)} MiB. "req/s per sandbox core" = 1 s / the ` +
        'sandbox CPU per request: the rate one core sustains when the load generator is not the limit.\n',
    );
  } finally {
    await sandbox.stop();
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`[bench] could not run: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
