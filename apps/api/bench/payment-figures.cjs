/*
 * The figures the payments bench reports, and how one run's measurements become them: latency
 * percentiles from the client, the gateway's share per payment from the sandbox's log, the mean from
 * pay's own histogram, the API's event-loop delay from its /metrics, the CPU each process spent per
 * payment, and the replays of the run's answered payments.
 */
'use strict';

const { completePayments, gatewayTimeByPayment } = require('./gateway-time.cjs');
const { cpuTimeMs, machineCpuTicks } = require('./processes.cjs');
const { percentile, sortedNumbers } = require('./summary.cjs');

/** The figures of one run, in the order the table prints them. */
const FIGURES = [
  { key: 'payments_per_s', label: 'payments/s', unit: 'payments/s', digits: 1 },
  { key: 'latency_p50_ms', label: 'latency p50 ms', unit: 'ms', digits: 1 },
  { key: 'latency_p95_ms', label: 'latency p95 ms', unit: 'ms', digits: 1 },
  { key: 'latency_p99_ms', label: 'latency p99 ms', unit: 'ms', digits: 1 },
  {
    key: 'gateway_p50_ms',
    label: 'gateway p50 ms',
    unit: 'ms',
    digits: 1,
    description: "per payment, the sandbox's own time answering the calls pay made for it",
  },
  { key: 'gateway_p99_ms', label: 'gateway p99 ms', unit: 'ms', digits: 1 },
  {
    key: 'pay_added_p50_ms',
    label: 'pay added p50 ms',
    unit: 'ms',
    digits: 1,
    description: "per payment, its latency minus the sandbox's time for its calls",
  },
  { key: 'pay_added_p99_ms', label: 'pay added p99 ms', unit: 'ms', digits: 1 },
  {
    key: 'eventloop_delay_p99_ms',
    label: 'API event-loop delay p99 ms',
    unit: 'ms',
    digits: 1,
    description:
      "the API's monitorEventLoopDelay p99 over the run (prom-client's, reset by the scrape at the run's start), less its 10 ms sampling interval",
  },
  { key: 'eventloop_delay_max_ms', label: 'API event-loop delay max ms', unit: 'ms', digits: 1 },
  {
    key: 'gateway_client_mean_ms',
    label: 'gateway mean ms (as pay sees it)',
    unit: 'ms',
    digits: 1,
    description: 'mean per payment from pay_gateway_call_duration_seconds: network and SDK included',
  },
  {
    key: 'pay_added_mean_ms',
    label: 'pay added mean ms (excl. its Stripe client)',
    unit: 'ms',
    digits: 1,
    description: 'mean latency minus gateway_client_mean_ms',
  },
  {
    key: 'api_cpu_ms_per_payment',
    label: 'API CPU ms/payment',
    unit: 'ms',
    digits: 2,
    description: "the API process's CPU time (user + system) over the run / payments",
  },
  { key: 'sandbox_cpu_ms_per_payment', label: 'sandbox CPU ms/payment', unit: 'ms', digits: 2 },
  {
    key: 'client_cpu_ms_per_payment',
    label: 'load generator CPU ms/payment',
    unit: 'ms',
    digits: 2,
  },
  {
    key: 'machine_cpu_busy_share',
    label: 'machine CPU busy share',
    unit: 'fraction',
    digits: 2,
    description: 'all cores, all processes (PostgreSQL included): near 1 means the machine was the limit',
  },
  { key: 'gateway_calls_per_payment', label: 'gateway calls/payment', unit: 'calls', digits: 0 },
  { key: 'payments', label: 'payments', unit: 'payments', digits: 0 },
  { key: 'failed_requests', label: 'failed requests', unit: 'requests', digits: 0 },
  {
    key: 'replays_per_s',
    label: 'idempotent replays/s',
    unit: 'replays/s',
    digits: 1,
    description:
      "the run's answered payments re-sent with their key and body at the same concurrency, for as long as the run; each must answer the stored response",
  },
  { key: 'replay_p50_ms', label: 'replay p50 ms', unit: 'ms', digits: 1 },
  { key: 'replay_p99_ms', label: 'replay p99 ms', unit: 'ms', digits: 1 },
  {
    key: 'failed_replays',
    label: 'failed replays',
    unit: 'requests',
    digits: 0,
    description: 'not 201, no Idempotent-Replayed: true, or not the first answer byte for byte',
  },
  {
    key: 'attributed_share',
    label: 'share with gateway time',
    unit: 'fraction',
    digits: 2,
    description: 'payments whose every gateway call was found in the sandbox log',
  },
];

/** What the CPU counters say now: the API's, the sandbox's, this process's, the machine's. */
function cpuSnapshot(api, sandbox) {
  const own = process.cpuUsage();
  return {
    api: cpuTimeMs(api.pid),
    sandbox: cpuTimeMs(sandbox.pid),
    client: (own.user + own.system) / 1000,
    machine: machineCpuTicks(),
  };
}

/** CPU ms per payment between two snapshots, by process, and the machine's busy share. */
function cpuFigures(before, after, payments) {
  const perPayment = (key) =>
    before[key] === null || after[key] === null || payments === 0
      ? null
      : (after[key] - before[key]) / payments;
  const machine =
    before.machine === null || after.machine === null || after.machine.total === before.machine.total
      ? null
      : (after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total);
  return {
    api_cpu_ms_per_payment: perPayment('api'),
    sandbox_cpu_ms_per_payment: perPayment('sandbox'),
    client_cpu_ms_per_payment: perPayment('client'),
    machine_cpu_busy_share: machine,
  };
}

/** The figures of one run, from the requests' latencies, the sandbox's log and pay's histogram. */
function figuresOfRun(drive, log, histogramBefore, histogramAfter) {
  const latencies = sortedNumbers(drive.samples.map((s) => s.latencyMs));
  const payments = drive.samples.length;
  const { byPayment, unattributedCalls } = gatewayTimeByPayment(log.requests, log.objects);
  const { complete, callsPerPayment } = completePayments(byPayment);
  const gateway = [];
  const added = [];
  for (const sample of drive.samples) {
    const sum = complete.get(sample.paymentId);
    if (sum !== undefined) {
      gateway.push(sum.ms);
      added.push(sample.latencyMs - sum.ms);
    }
  }
  const gatewaySorted = sortedNumbers(gateway);
  const addedSorted = sortedNumbers(added);
  const meanLatency = payments > 0 ? latencies.reduce((a, b) => a + b, 0) / payments : NaN;
  const clientGatewayMs =
    histogramBefore !== null && histogramAfter !== null && payments > 0
      ? ((histogramAfter.sum - histogramBefore.sum) * 1000) / payments
      : null;
  const nullIfNaN = (v) => (Number.isFinite(v) ? v : null);
  return {
    payments,
    payments_per_s: payments / (drive.elapsedMs / 1000),
    latency_p50_ms: nullIfNaN(percentile(latencies, 0.5)),
    latency_p95_ms: nullIfNaN(percentile(latencies, 0.95)),
    latency_p99_ms: nullIfNaN(percentile(latencies, 0.99)),
    gateway_p50_ms: nullIfNaN(percentile(gatewaySorted, 0.5)),
    gateway_p99_ms: nullIfNaN(percentile(gatewaySorted, 0.99)),
    pay_added_p50_ms: nullIfNaN(percentile(addedSorted, 0.5)),
    pay_added_p99_ms: nullIfNaN(percentile(addedSorted, 0.99)),
    gateway_client_mean_ms: clientGatewayMs,
    pay_added_mean_ms: clientGatewayMs === null ? null : nullIfNaN(meanLatency - clientGatewayMs),
    gateway_calls_per_payment: callsPerPayment,
    failed_requests: Object.values(drive.failures).reduce((a, b) => a + b, 0),
    failures_by_kind: drive.failures,
    attributed_share: payments > 0 ? gateway.length / payments : null,
    gateway_calls_unattributed: unattributedCalls,
    elapsed_ms: drive.elapsedMs,
  };
}

/**
 * prom-client's monitorEventLoopDelay samples every 10 ms (collectDefaultMetrics' default precision)
 * and records the time between samples, so an idle loop reads about 10 ms: the delay is the excess.
 */
const EVENT_LOOP_SAMPLING_MS = 10;

/** A gauge's value from Prometheus' text format, or null when the scrape has no such line. */
function gaugeValue(metricsText, name) {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)$`, 'm').exec(metricsText);
  const value = match ? Number(match[1]) : NaN;
  return Number.isFinite(value) ? value : null;
}

/**
 * The API's event-loop delay over a run, from the /metrics scrape at its end. prom-client resets its
 * monitorEventLoopDelay histogram on every collect, so the scrape at the run's start emptied it and
 * this one holds the run alone (and the few ms of the scrapes themselves).
 */
function eventLoopFigures(metricsTextAfter) {
  const ms = (name) => {
    const seconds = gaugeValue(metricsTextAfter, name);
    return seconds === null ? null : seconds * 1000 - EVENT_LOOP_SAMPLING_MS;
  };
  return {
    eventloop_delay_p99_ms: ms('nodejs_eventloop_lag_p99_seconds'),
    eventloop_delay_max_ms: ms('nodejs_eventloop_lag_max_seconds'),
  };
}

/** The replay phase's figures (load.cjs driveReplays). */
function replayFigures(replay) {
  const sorted = sortedNumbers(replay.latencies);
  const nullIfNaN = (v) => (Number.isFinite(v) ? v : null);
  return {
    replays: replay.latencies.length,
    replays_per_s: replay.elapsedMs > 0 ? replay.latencies.length / (replay.elapsedMs / 1000) : null,
    replay_p50_ms: nullIfNaN(percentile(sorted, 0.5)),
    replay_p99_ms: nullIfNaN(percentile(sorted, 0.99)),
    failed_replays: Object.values(replay.failures).reduce((a, b) => a + b, 0),
    replay_failures_by_kind: replay.failures,
  };
}

module.exports = { FIGURES, cpuSnapshot, cpuFigures, eventLoopFigures, figuresOfRun, replayFigures };
