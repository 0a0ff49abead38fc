/*
 * Issue 9's targets, read off one report: pay's figures as a share of the ceiling measured in the same
 * run (postgres/ceiling), and the absolute bounds. Each target is "met", "not met", or null with the
 * reason it could not be judged (a benchmark left out with --only, a level not run, a backlog of
 * another size). The figures are the medians the benchmarks already report; nothing is re-measured.
 *
 * A judgement here is information for the reader of the report, never an exit code (DESIGN.md §9).
 */
'use strict';

const MB = 1e6;
/** The backlog the drain target is stated for. */
const DRAIN_TARGET_EVENTS = 10_000;

/** The median of `key` at `concurrency` in the benchmark named `name`, or null with why not. */
function medianOf(benchmarks, name, concurrency, key) {
  const bench = benchmarks.find((b) => b.name === name);
  if (bench === undefined) {
    return { value: null, missing: `${name} did not run` };
  }
  if (bench.error !== undefined) {
    return { value: null, missing: `${name} could not run` };
  }
  const level = bench.levels.find((l) => l.concurrency === concurrency);
  if (level === undefined) {
    return { value: null, missing: `${name} ran no level c=${concurrency}` };
  }
  const median = level.summary[key]?.median ?? null;
  return median === null
    ? { value: null, missing: `${name} has no ${key} at c=${concurrency}` }
    : { value: median };
}

/** A ratio target: `numerator / denominator ≥ at_least`. */
function ratio(id, label, numerator, denominator, atLeast) {
  const missing = numerator.missing ?? denominator.missing;
  if (missing !== undefined || denominator.value === 0) {
    return {
      id,
      label,
      target: `≥ ${atLeast}`,
      value: null,
      met: null,
      reason: missing ?? 'the ceiling is 0',
    };
  }
  const value = numerator.value / denominator.value;
  return {
    id,
    label,
    target: `≥ ${atLeast}`,
    value,
    met: value >= atLeast,
    figures: { numerator: numerator.value, denominator: denominator.value },
  };
}

/** A bound target: `value ≤ atMost` (in `unit`). */
function bound(id, label, figure, atMost, unit) {
  if (figure.missing !== undefined) {
    return { id, label, target: `≤ ${atMost} ${unit}`, unit, value: null, met: null, reason: figure.missing };
  }
  return { id, label, target: `≤ ${atMost} ${unit}`, unit, value: figure.value, met: figure.value <= atMost };
}

/** Every target of issue 9, judged from the report's benchmarks. */
function judgeTargets(benchmarks) {
  const ceiling = (key) => medianOf(benchmarks, 'postgres/ceiling', 16, key);
  const payments = (c, key) => medianOf(benchmarks, 'api/payments', c, key);
  const targets = [
    ratio(
      'payments_per_simple_update_c16',
      'payments/s at c=16 ÷ pgbench simple-update TPS',
      payments(16, 'payments_per_s'),
      ceiling('simple_update_tps'),
      0.2,
    ),
    ratio(
      'payments_per_simple_update_c64',
      'payments/s at c=64 ÷ pgbench simple-update TPS',
      payments(64, 'payments_per_s'),
      ceiling('simple_update_tps'),
      0.2,
    ),
    ratio(
      'acks_per_jsonb_insert_c16',
      'webhook acks/s at c=16 ÷ 2 KB jsonb insert TPS',
      medianOf(benchmarks, 'api/webhooks', 16, 'acks_per_s'),
      ceiling('jsonb_insert_tps'),
      0.75,
    ),
    bound('pay_added_p99_c16', "pay's added p99 at c=16", payments(16, 'pay_added_p99_ms'), 5, 'ms'),
  ];

  const webhooks = benchmarks.find((b) => b.name === 'api/webhooks' && b.error === undefined);
  const drain = webhooks?.extra?.drain?.find((d) => d.workers === 2);
  const drainLabel = `drain of ${DRAIN_TARGET_EVENTS.toLocaleString('en')} events with two workers`;
  if (drain === undefined || drain.drain_s === null) {
    targets.push(
      bound('drain_10000_two_workers', drainLabel, { missing: 'no drain with 2 workers ran' }, 4, 's'),
    );
  } else if (drain.events !== DRAIN_TARGET_EVENTS) {
    targets.push({
      ...bound('drain_10000_two_workers', drainLabel, { value: drain.drain_s }, 4, 's'),
      met: null,
      reason: `the backlog was ${drain.events} events, not ${DRAIN_TARGET_EVENTS}`,
    });
  } else {
    targets.push(bound('drain_10000_two_workers', drainLabel, { value: drain.drain_s }, 4, 's'));
  }

  // The payments bench keeps the API's peak over the whole run: the c=64 level's when it ran one.
  const paymentsBench = benchmarks.find((b) => b.name === 'api/payments' && b.error === undefined);
  const rss = paymentsBench?.extra?.api_peak_rss_bytes ?? null;
  const ranC64 = paymentsBench?.levels.some((l) => l.concurrency === 64) ?? false;
  targets.push(
    bound(
      'api_rss_c64',
      'API peak RSS with payments at c=64',
      !ranC64
        ? { missing: 'api/payments ran no level c=64' }
        : rss === null
          ? { missing: 'no RSS figure (no /proc)' }
          : { value: rss / MB },
      150,
      'MB',
    ),
  );

  // RELIABILITY.md J1 (informational): with Stripe's latency, at c=64 (≈ J1's 50 payments/s), what pay
  // adds stays small and the slowest payments are slow only by Stripe's own tail.
  const latency = (key) => medianOf(benchmarks, 'api/payments-stripe-latency', 64, key);
  targets.push(
    bound(
      'j1_pay_added_p50',
      "J1: pay's added p50 with Stripe's latency, c=64",
      latency('pay_added_p50_ms'),
      10,
      'ms',
    ),
    bound(
      'j1_pay_added_p99',
      "J1: pay's added p99 with Stripe's latency, c=64",
      latency('pay_added_p99_ms'),
      50,
      'ms',
    ),
  );
  const p99 = latency('latency_p99_ms');
  const gatewayP99 = latency('gateway_p99_ms');
  const missing = p99.missing ?? gatewayP99.missing;
  targets.push(
    bound(
      'j1_p99_over_gateway_p99',
      "J1: latency p99 − gateway p99 with Stripe's latency, c=64",
      missing === undefined ? { value: p99.value - gatewayP99.value } : { missing },
      100,
      'ms',
    ),
  );

  // J1 as RELIABILITY.md writes it (informational): an open loop at a fixed rate, judged on the only level
  // api/payments-stripe-latency-open runs, and only at J1's 50 payments/s.
  targets.push(...openLoopJ1Targets(benchmarks));
  return targets;
}

/** The rate J1's open-loop targets are stated for, payments/s. */
const J1_RATE = 50;

/** J1's three bounds, from api/payments-stripe-latency-open's medians; n/a when it did not run at 50/s. */
function openLoopJ1Targets(benchmarks) {
  const name = 'api/payments-stripe-latency-open';
  const bench = benchmarks.find((b) => b.name === name);
  const level = bench?.error === undefined ? bench?.levels?.[0] : undefined;
  const figure = (key) => {
    if (bench === undefined) {
      return { missing: `${name} did not run` };
    }
    if (level === undefined) {
      return { missing: `${name} could not run` };
    }
    const median = level.summary[key]?.median ?? null;
    return median === null ? { missing: `${name} has no ${key}` } : { value: median };
  };
  const atRate = (target) =>
    level === undefined || level.concurrency === J1_RATE
      ? target
      : { ...target, met: null, reason: `the rate was ${level.concurrency}/s, not ${J1_RATE}/s` };
  return [
    atRate(
      bound(
        'j1_open_pay_added_p50',
        "J1, open loop 50/s: pay's added p50",
        figure('pay_added_p50_ms'),
        10,
        'ms',
      ),
    ),
    atRate(
      bound(
        'j1_open_pay_added_p99',
        "J1, open loop 50/s: pay's added p99",
        figure('pay_added_p99_ms'),
        50,
        'ms',
      ),
    ),
    atRate(
      bound(
        'j1_open_p99_over_gateway_p99',
        'J1, open loop 50/s: end-to-end p99 − gateway p99',
        figure('latency_p99_over_gateway_p99_ms'),
        100,
        'ms',
      ),
    ),
  ];
}

function formatValue(target) {
  if (target.value === null) {
    return 'n/a';
  }
  if (target.figures !== undefined) {
    const n = target.figures.numerator.toFixed(1);
    const d = target.figures.denominator.toFixed(0);
    return `${target.value.toFixed(3)} (${n} / ${d})`;
  }
  return `${target.value.toFixed(target.value < 100 ? 1 : 0)} ${target.unit}`;
}

/** The targets as the block printed after the tables. */
function targetLines(targets) {
  const rows = targets.map((t) => [
    t.label,
    t.target,
    formatValue(t),
    t.met === null ? `n/a: ${t.reason}` : t.met ? 'met' : 'not met',
  ]);
  const header = ['target (issue 9, medians of this run)', 'wanted', 'measured', ''];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i].length)));
  const render = (row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('   ')
      .trimEnd();
  return [render(header), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.map(render)];
}

module.exports = { judgeTargets, targetLines };
