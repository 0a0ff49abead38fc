const fs = require('node:fs');
const path = require('node:path');

/**
 * Writes each jest run's pass/fail counts to `.test-results/` at the repository root, so that
 * `scripts/quickstart.cjs` and `.ci/run` can print one `N passed, N failed` line summing every package.
 */
class SummaryReporter {
  /** `failed` counts failed tests plus suites that crashed before running any. */
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const dir = process.env.PAY_TEST_RESULTS_DIR || path.resolve(__dirname, '../../.test-results');
    fs.mkdirSync(dir, { recursive: true });
    const name =
      path.relative(path.resolve(__dirname, '../..'), this.rootDir).replace(/[\\/]/g, '_') || 'root';
    fs.writeFileSync(
      path.join(dir, `${name}-${process.pid}.json`),
      JSON.stringify({
        package: name,
        passed: results.numPassedTests,
        failed: results.numFailedTests + (results.numRuntimeErrorTestSuites || 0),
        skipped: results.numPendingTests,
      }),
    );
  }
}

module.exports = SummaryReporter;
