import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { figure, since } from './support/figures.js';

/*
 * Issue 9: "a smoke run of `pnpm bench --quick` in CI proves they still run". Every benchmark at a tiny
 * size (scripts/bench.cjs QUICK_DEFAULTS) on the built code, the report written. It asserts that each
 * benchmark ran and reported, never what any figure is: a benchmark never fails a build on a number.
 */

const ROOT = path.join(__dirname, '../../../..');
const BENCH = path.join(ROOT, 'scripts/bench.cjs');
/** A hang guard, not a timing assertion: the quick run takes a minute or two. */
const HANG_GUARD_MS = 480_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runBench(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BENCH, ...args], {
      cwd: ROOT,
      // The quick sizes, whatever the developer's shell exports.
      env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BENCH_'))),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), HANG_GUARD_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Report {
  readonly quick: boolean;
  readonly benchmarks: readonly {
    readonly name: string;
    readonly error?: string;
    readonly levels?: readonly { readonly runs: readonly unknown[] }[];
  }[];
  readonly targets: readonly { readonly id: string; readonly met: boolean | null }[];
}

describe('pnpm bench --quick', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'pay-bench-quick-'));

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every benchmark and writes a report with each one’s figures and the targets', async () => {
    const listed = await runBench(['--list']);
    expect(listed.code).toBe(0);
    const names = JSON.parse(listed.stdout) as string[];

    const started = performance.now();
    const run = await runBench(['--quick', '--skip-build', '--out', out]);
    figure('bench --quick', `exit ${run.code} after ${since(started)} ms`);
    if (run.code !== 0) {
      console.log(run.stderr.slice(-4000));
    }
    expect(run.code).toBe(0);

    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as Report;
    expect(report.quick).toBe(true);
    expect(report.benchmarks.map((b) => b.name)).toEqual(names);
    expect(report.benchmarks.filter((b) => b.error !== undefined)).toEqual([]);
    const withoutRuns = report.benchmarks.filter(
      (b) => (b.levels ?? []).length === 0 || (b.levels ?? []).some((level) => level.runs.length === 0),
    );
    expect(withoutRuns.map((b) => b.name)).toEqual([]);
    expect(report.targets.map((t) => t.id)).toEqual([
      'payments_per_simple_update_c16',
      'payments_per_simple_update_c64',
      'acks_per_jsonb_insert_c16',
      'pay_added_p99_c16',
      'drain_10000_two_workers',
      'api_rss_c64',
      'j1_pay_added_p50',
      'j1_pay_added_p99',
      'j1_p99_over_gateway_p99',
      'j1_open_pay_added_p50',
      'j1_open_pay_added_p99',
      'j1_open_p99_over_gateway_p99',
    ]);
    // The table and the targets block were printed (their verdicts are not this test's business).
    for (const name of names) {
      expect(run.stdout).toContain(`${name}: `);
    }
    expect(run.stdout).toContain('Targets (a --quick run');
  });
});
