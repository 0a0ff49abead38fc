#!/usr/bin/env node
/*
 * `pnpm bench`: builds quietly, runs every benchmark, and writes one report: bench-results/report.json
 * (the machine, the versions, and for each benchmark each run's figures with their median and min–max)
 * plus a readable table per benchmark on stdout. Progress goes to stderr.
 *
 * A benchmark is an entry of BENCHMARKS: a name and a function that runs it and returns its result in
 * the shape of apps/api/bench/summary.cjs (settings, figures, levels with runs and summary, extra).
 * The first, postgres/ceiling, measures what the same PostgreSQL does with pgbench; after the tables,
 * issue 9's targets are printed as one block (pay's figures as a share of that ceiling, and the absolute
 * bounds), each "met", "not met" or n/a, and kept in report.json under `targets`.
 *
 * Figures are reported, never enforced: the exit code is non-zero only when a benchmark could not run
 * (the report is written anyway, with the error in its place), never because a target was not met.
 *
 * Usage: node scripts/bench.cjs [--quick] [--skip-build] [--only <name>[,<name>…]] [--out <dir>] [--list]
 * Environment: BENCH_DURATION_S (seconds per run and level, default 6), BENCH_RUNS (default 3),
 * BENCH_CONCURRENCY (default "1,16,64"), passed on to every benchmark, as is every other BENCH_* variable.
 * `--quick` runs everything at a tiny size (QUICK_DEFAULTS) to prove it still runs; `--list` prints the
 * benchmarks' names as JSON and exits.
 */
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const ROOT = path.resolve(__dirname, '..');
const { summariseLevels, renderResultTable } = require(path.join(ROOT, 'apps/api/bench/summary.cjs'));
const { judgeTargets, targetLines } = require(path.join(ROOT, 'apps/api/bench/targets.cjs'));

/**
 * `--quick`: every benchmark at a tiny size, to prove they still run (CI's smoke run); its figures say
 * nothing about the machine. A variable set in the environment still wins over these.
 */
const QUICK_DEFAULTS = {
  BENCH_DURATION_S: '1',
  BENCH_RUNS: '1',
  BENCH_CONCURRENCY: '1,16',
  BENCH_WARMUP_S: '0.5',
  BENCH_WEBHOOK_BACKLOG: '1000',
  BENCH_WEBHOOK_WORKERS: '2',
  // api/payments-stripe-latency-open's sending window (its default is 5 × BENCH_DURATION_S, at least 10 s).
  BENCH_J1_SECONDS: '3',
};

/** The run's sizes, set by main() from the environment (and `--quick`) before any benchmark runs. */
let DURATION_S = '6';
let RUNS = 3;
let CONCURRENCY = '1,16,64';
/** The latency benchmark's levels: a payment takes ~1.2 s of Stripe's time, so c=1 would say little. */
let LATENCY_CONCURRENCY = '16,64';

function log(message) {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Runs `node <script>`, its stdout and stderr shown as progress on stderr; resolves with its stdout. */
function runNode(script, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk.toString();
      process.stderr.write(chunk);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`${path.relative(ROOT, script)} failed (${signal ?? `exit code ${code}`})`)),
    );
  });
}

/** `sandbox CPU µs/req` → `sandbox_cpu_us_per_req`: a JSON key for a column of a printed table. */
function keyOf(header) {
  return header
    .toLowerCase()
    .replace(/µ/g, 'u')
    .replace(/\//g, '_per_')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * Reads the table create-confirm.cjs prints (a header row, a row of dashes, one row per level, cells
 * separated by two or more spaces) into `[{ concurrency, figures }]`. `n/a` becomes null.
 */
function parseLevelTable(stdout) {
  const lines = stdout.split('\n');
  const at = lines.findIndex(
    (line, i) => /^\s*concurrency\s/.test(line) && /^[-\s]+$/.test(lines[i + 1] ?? ''),
  );
  if (at < 0) {
    throw new Error('the sandbox bench printed no table');
  }
  const headers = lines[at].trim().split(/\s{2,}/);
  const rows = [];
  for (const line of lines.slice(at + 2)) {
    const cells = line.trim().split(/\s{2,}/);
    if (cells.length !== headers.length || !/^\d+$/.test(cells[0])) {
      break;
    }
    const values = cells.map((cell) => (cell === 'n/a' ? null : Number(cell)));
    rows.push({ headers, values });
  }
  if (rows.length === 0) {
    throw new Error('the sandbox bench printed a table without rows');
  }
  return rows;
}

/** packages/stripe-sandbox/bench/create-confirm.cjs, BENCH_RUNS times (it runs each level once). */
async function sandboxCreateConfirm() {
  const script = path.join(ROOT, 'packages/stripe-sandbox/bench/create-confirm.cjs');
  const runsByLevel = new Map();
  let headers = [];
  for (let run = 1; run <= RUNS; run++) {
    log(`stripe-sandbox/create-confirm: run ${run} of ${RUNS}`);
    const stdout = await runNode(script, { BENCH_SECONDS: DURATION_S, BENCH_CONCURRENCY: CONCURRENCY });
    for (const row of parseLevelTable(stdout)) {
      headers = row.headers;
      const figures = Object.fromEntries(row.headers.map((header, i) => [keyOf(header), row.values[i]]));
      runsByLevel.set(figures.concurrency, [...(runsByLevel.get(figures.concurrency) ?? []), figures]);
    }
  }
  const figures = headers
    .filter((header) => header !== 'concurrency')
    .map((header) => ({ key: keyOf(header), label: header, digits: /ms$/.test(header) ? 2 : 0 }));
  return {
    name: 'stripe-sandbox/create-confirm',
    description:
      "PaymentIntent create+confirm straight to the sandbox with the stripe SDK: the gateway's own ceiling",
    settings: { duration_s: Number(DURATION_S), runs: RUNS, concurrency: [...runsByLevel.keys()] },
    figures,
    levels: summariseLevels(
      figures,
      [...runsByLevel].map(([concurrency, runs]) => ({ concurrency, runs })),
    ),
    extra: {},
  };
}

/**
 * Runs a benchmark script that runs its own levels BENCH_RUNS times and writes its result as JSON to
 * BENCH_JSON (a throw-away file here); resolves with that result.
 */
async function runJsonBench(script, env) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pay-bench-'));
  try {
    const json = path.join(dir, 'result.json');
    await runNode(path.join(ROOT, script), { ...env, BENCH_JSON: json });
    return readJson(json);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** apps/api/bench/payments.cjs: it runs its levels BENCH_RUNS times itself and writes its result. */
function apiPayments() {
  return runJsonBench('apps/api/bench/payments.cjs', {
    BENCH_DURATION_S: DURATION_S,
    BENCH_RUNS: String(RUNS),
    BENCH_CONCURRENCY: CONCURRENCY,
  });
}

/**
 * Stripe's own time, seeded: the log-normal RELIABILITY.md J1 names (median 300 ms, p99 1.5 s:
 * e^(2.326 σ) = 5, σ ≈ 0.69), drawn by the sandbox for every call it answers.
 */
const STRIPE_LATENCY = 'lognormal:median=300,sigma=0.69,seed=42';

/**
 * apps/api/bench/payments.cjs again with the sandbox holding every call for STRIPE_LATENCY: what pay
 * adds when each payment waits ~1.2 s on Stripe, and whether anything queues behind the gateway. The
 * levels are 16 and 64 (BENCH_LATENCY_CONCURRENCY): at c=64 the closed loop runs near J1's 50 payments/s.
 */
function apiPaymentsStripeLatency() {
  return runJsonBench('apps/api/bench/payments.cjs', {
    BENCH_NAME: 'api/payments-stripe-latency',
    BENCH_GATEWAY_LATENCY: process.env.BENCH_GATEWAY_LATENCY || STRIPE_LATENCY,
    BENCH_DURATION_S: DURATION_S,
    BENCH_RUNS: String(RUNS),
    BENCH_CONCURRENCY: process.env.BENCH_LATENCY_CONCURRENCY || LATENCY_CONCURRENCY,
  });
}

/**
 * apps/api/bench/webhooks.cjs: acks at each level (BENCH_RUNS runs) and the drain of a backlog with
 * 1, 2 and 4 workers; BENCH_WEBHOOK_BACKLOG and BENCH_WEBHOOK_WORKERS pass through from the environment.
 */
function apiWebhooks() {
  return runJsonBench('apps/api/bench/webhooks.cjs', {
    BENCH_DURATION_S: DURATION_S,
    BENCH_RUNS: String(RUNS),
    BENCH_CONCURRENCY: CONCURRENCY,
  });
}

/** apps/api/bench/ceiling.cjs: pgbench on the same server, BENCH_RUNS runs itself and writes its result. */
function postgresCeiling() {
  return runJsonBench('apps/api/bench/ceiling.cjs', {
    BENCH_DURATION_S: DURATION_S,
    BENCH_RUNS: String(RUNS),
  });
}

/**
 * apps/api/bench/payments-stripe-latency.cjs (RELIABILITY J1 as it is written): payments OPEN-LOOP at a
 * fixed rate against a sandbox with Stripe-like latency, BENCH_RUNS runs of BENCH_J1_SECONDS; BENCH_J1_RATE
 * and BENCH_J1_LATENCY pass through.
 */
function apiPaymentsStripeLatencyOpen() {
  return runJsonBench('apps/api/bench/payments-stripe-latency.cjs', {
    BENCH_DURATION_S: DURATION_S,
    BENCH_RUNS: String(RUNS),
  });
}

const BENCHMARKS = [
  { name: 'postgres/ceiling', run: postgresCeiling },
  { name: 'stripe-sandbox/create-confirm', run: sandboxCreateConfirm },
  { name: 'api/payments', run: apiPayments },
  { name: 'api/webhooks', run: apiWebhooks },
  { name: 'api/payments-stripe-latency', run: apiPaymentsStripeLatency },
  { name: 'api/payments-stripe-latency-open', run: apiPaymentsStripeLatencyOpen },
];

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Every workspace package's version, by name: which pay the figures belong to. */
function payVersions() {
  const versions = {};
  for (const group of ['packages', 'apps']) {
    for (const dir of fs.readdirSync(path.join(ROOT, group)).sort()) {
      const file = path.join(ROOT, group, dir, 'package.json');
      if (fs.existsSync(file)) {
        const { name, version } = readJson(file);
        versions[name] = version;
      }
    }
  }
  return versions;
}

function gitCommit() {
  const result = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) {
    return null;
  }
  const dirty = spawnSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).stdout !== '';
  return { sha: result.stdout.trim(), dirty };
}

/** The stripe SDK pay's adapter runs on (its exports map hides package.json from require.resolve). */
function stripeSdkVersion() {
  try {
    return readJson(path.join(ROOT, 'packages/stripe-adapter/node_modules/stripe/package.json')).version;
  } catch {
    return null;
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu_model: cpus[0]?.model ?? null,
    cpu_count: cpus.length,
    // What this process may use, which in a container can be less than the host's cores.
    available_parallelism: os.availableParallelism(),
    memory_bytes: os.totalmem(),
    os: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    // Other work on the machine skews every figure: a load near the core count before the bench
    // starts means the figures are not this machine's best.
    load_average_at_start: os.loadavg().map((load) => Number(load.toFixed(2))),
    // BENCH_PIN as the benchmarks apply it (`none`, or role:cores pairs); api/payments' extra.cores
    // says which cores each process was allowed and ran on.
    pinning: require(path.join(ROOT, 'apps/api/bench/processes.cjs')).pinSetting(),
  };
}

function build() {
  log('building (turbo run build)');
  const result = spawnSync(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', '--log-prefix=none'],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
  );
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    throw new Error(result.error ? result.error.message : 'the build failed (see above)');
  }
}

async function main() {
  const argv = process.argv.slice(2);
  const { values } = parseArgs({
    // `pnpm bench -- --only x` passes the `--` on.
    args: argv[0] === '--' ? argv.slice(1) : argv,
    options: {
      quick: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      'skip-build': { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string', default: path.join(ROOT, 'bench-results') },
    },
  });
  if (values.list) {
    process.stdout.write(`${JSON.stringify(BENCHMARKS.map((b) => b.name))}\n`);
    return 0;
  }
  if (values.quick) {
    for (const [name, value] of Object.entries(QUICK_DEFAULTS)) {
      if (!process.env[name]) {
        process.env[name] = value;
      }
    }
  }
  DURATION_S = process.env.BENCH_DURATION_S || '6';
  RUNS = Number(process.env.BENCH_RUNS || 3);
  CONCURRENCY = process.env.BENCH_CONCURRENCY || '1,16,64';
  LATENCY_CONCURRENCY = values.quick ? '16' : '16,64';
  if (!(Number(DURATION_S) > 0) || !Number.isInteger(RUNS) || RUNS < 1) {
    throw new Error('BENCH_DURATION_S must be a positive number and BENCH_RUNS a positive integer');
  }
  const only = values.only === undefined ? null : values.only.split(',');
  const selected = BENCHMARKS.filter((b) => only === null || only.includes(b.name));
  if (selected.length === 0) {
    throw new Error(`--only names no benchmark; there are: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  }
  // Before the build, so the load average shows other work on the machine rather than the build's.
  const started = new Date();
  const machineInfo = machine();
  if (!values['skip-build']) {
    build();
  }
  const outDir = path.resolve(values.out);
  fs.mkdirSync(outDir, { recursive: true });

  const benchmarks = [];
  for (const benchmark of selected) {
    try {
      benchmarks.push(await benchmark.run());
    } catch (err) {
      log(`${benchmark.name} could not run: ${err && err.message ? err.message : err}`);
      benchmarks.push({ name: benchmark.name, error: err && err.message ? err.message : String(err) });
    }
  }
  const payments = benchmarks.find((b) => b.name === 'api/payments');
  const targets = judgeTargets(benchmarks);
  const report = {
    schema_version: 1,
    date: started.toISOString(),
    quick: values.quick,
    duration_s: (Date.now() - started.getTime()) / 1000,
    machine: machineInfo,
    versions: {
      node: process.version,
      // From whichever benchmark ran on PostgreSQL (`--only` may have left out the payments one).
      postgres:
        benchmarks.find((b) => b.environment?.postgres_version !== undefined)?.environment.postgres_version ??
        null,
      stripe_sdk: stripeSdkVersion(),
      pay: payVersions(),
      git: gitCommit(),
    },
    settings: { duration_s: Number(DURATION_S), runs: RUNS, concurrency: CONCURRENCY.split(',').map(Number) },
    benchmarks,
    targets,
  };
  const file = path.join(outDir, 'report.json');
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);

  const m = report.machine;
  process.stdout.write(
    `\npay bench, ${report.date}: node ${report.versions.node}, PostgreSQL ${report.versions.postgres ?? 'n/a'}, ` +
      `${m.cpu_count} × ${m.cpu_model}\n`,
  );
  for (const result of benchmarks) {
    process.stdout.write(
      result.error === undefined
        ? `\n${renderResultTable(result)}\n`
        : `\n${result.name}: could not run: ${result.error}\n`,
    );
  }
  if (payments?.extra !== undefined) {
    const rss = payments.extra.api_peak_rss_bytes;
    process.stdout.write(
      `\nAPI peak RSS (VmHWM): ${rss === null ? 'n/a' : `${(rss / 2 ** 20).toFixed(0)} MiB`}\n`,
    );
    if (payments.extra.cores !== undefined) {
      const { coreLines } = require(path.join(ROOT, 'apps/api/bench/processes.cjs'));
      process.stdout.write(`${coreLines(payments.extra.cores, payments.extra.pinning).join('\n')}\n`);
    }
  }
  const webhooks = benchmarks.find((b) => b.name === 'api/webhooks');
  if (webhooks?.extra?.drain !== undefined) {
    const { drainLines } = require(path.join(ROOT, 'apps/api/bench/webhooks.cjs'));
    process.stdout.write(`\n${drainLines(webhooks).join('\n')}\n`);
  }
  if (targets.some((t) => t.met !== null)) {
    const caveat = values.quick ? ' (a --quick run: tiny sizes, the judgements mean nothing)' : '';
    process.stdout.write(`\nTargets${caveat}:\n${targetLines(targets).join('\n')}\n`);
  }
  process.stdout.write(`\nreport: ${path.relative(process.cwd(), file) || file}\n`);
  return benchmarks.some((b) => b.error !== undefined) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
