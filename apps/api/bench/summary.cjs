/*
 * The shape every benchmark's result takes, and how it is summarised and printed. A result holds, per
 * concurrency level, the raw figures of each run; the summary of a figure is its median and its min–max
 * over the runs, because one run on a shared 2-core machine says little and a mean hides the outlier
 * that the min–max shows. scripts/bench.cjs uses the same functions for every benchmark it gathers.
 */
'use strict';

/** Nearest-rank percentile of an ascending array; NaN when empty (the sandbox bench uses the same rule). */
function percentile(sorted, q) {
  if (sorted.length === 0) {
    return NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Ascending copy of the finite numbers among `values`. */
function sortedNumbers(values) {
  return Float64Array.from(values.filter((v) => typeof v === 'number' && Number.isFinite(v))).sort();
}

/** `{ median, min, max }` of the runs' values, each null when no run produced the figure. */
function summariseValues(values) {
  const sorted = sortedNumbers(values);
  if (sorted.length === 0) {
    return { median: null, min: null, max: null };
  }
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** Adds `summary[key]` (median, min, max over `runs`) to each level, for every figure of the result. */
function summariseLevels(figures, levels) {
  return levels.map((level) => ({
    ...level,
    summary: Object.fromEntries(
      figures.map((figure) => [figure.key, summariseValues(level.runs.map((run) => run[figure.key]))]),
    ),
  }));
}

/** A finite number rounded for the table, or `n/a`. */
function formatNumber(value, digits) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** `median (min–max)`, or just the value when every run agreed or there was one run. */
function formatSummary(summary, digits) {
  const median = formatNumber(summary.median, digits);
  if (summary.min === null || summary.max === null) {
    return median;
  }
  const min = formatNumber(summary.min, digits);
  const max = formatNumber(summary.max, digits);
  return min === max ? median : `${median} (${min}–${max})`;
}

/**
 * The result as a table: one row per figure, one column per concurrency level, so a benchmark can add
 * figures without the table growing wider than a terminal.
 */
function renderResultTable(result) {
  const runs = result.levels.reduce((most, level) => Math.max(most, level.runs.length), 0);
  const header = ['', ...result.levels.map((level) => `c=${level.concurrency}`)];
  const rows = result.figures.map((figure) => [
    figure.label,
    ...result.levels.map((level) => formatSummary(level.summary[figure.key], figure.digits ?? 1)),
  ]);
  const lines = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...lines.map((line) => line[i].length)));
  const render = (line) =>
    line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('   ');
  const title =
    `${result.name}: ${result.description}\n` +
    `${runs} run${runs === 1 ? '' : 's'} of ${result.settings.duration_s} s per level; ` +
    'median (min–max) over the runs';
  return [title, render(header), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.map(render)].join(
    '\n',
  );
}

module.exports = { percentile, sortedNumbers, summariseValues, summariseLevels, renderResultTable };
