import { spawnSync } from 'node:child_process';
import path from 'node:path';

const DIST = path.join(__dirname, '../dist/index.js');

/** A process that arms PAY_FAULTS through loadConfig, reaches points, and says so when it survives one. */
function runArmed(env: Record<string, string>, points: string[]) {
  const script = `
    const { silentLogger } = require('@pay/core');
    const { faultPointsFrom, loadConfig } = require(${JSON.stringify(DIST)});
    const faults = faultPointsFrom(loadConfig(process.env), silentLogger);
    for (const point of ${JSON.stringify(points)}) {
      faults.reach(point);
      process.stdout.write('passed ' + point + '\\n');
    }
  `;
  return spawnSync(process.execPath, ['-e', script], {
    cwd: __dirname,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('an armed crash point, in a real process', () => {
  it('writes where it died to stderr and dies by SIGKILL, running nothing after it', () => {
    const run = runArmed({ NODE_ENV: 'test', PAY_FAULTS: 'payment.before_confirm' }, [
      'payment.after_key_insert',
      'payment.before_confirm',
      'payment.after_confirm_before_commit',
    ]);
    expect({ signal: run.signal, status: run.status, stdout: run.stdout }).toEqual({
      signal: 'SIGKILL',
      status: null,
      stdout: 'passed payment.after_key_insert\n',
    });
    expect(run.stderr).toMatch(
      /^pay: crash point payment\.before_confirm reached \(PAY_FAULTS\); killing process \d+\n$/,
    );
  });

  it('is passed without effect when NODE_ENV is not test', () => {
    const run = runArmed({ PAY_FAULTS: 'payment.before_confirm' }, ['payment.before_confirm']);
    expect({ signal: run.signal, status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
      signal: null,
      status: 0,
      stdout: 'passed payment.before_confirm\n',
      stderr: '',
    });
  });
});
