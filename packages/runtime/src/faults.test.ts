import { noFaults, silentLogger, type Logger } from '@pay/core';
import { loadConfig } from './config.js';
import { faultPointsFrom } from './faults.js';

/** A crash that records the point instead of killing the test process. */
function recordingCrash(): { crash: (point: string) => void; reached: string[] } {
  const reached: string[] = [];
  return { crash: (point) => reached.push(point), reached };
}

describe('faultPointsFrom', () => {
  it('is inert when PAY_FAULTS is unset, even under NODE_ENV=test', () => {
    const { crash, reached } = recordingCrash();
    const faults = faultPointsFrom(loadConfig({ NODE_ENV: 'test' }), silentLogger, crash);
    expect(faults).toBe(noFaults);
    faults.reach('payment.after_key_insert');
    expect(reached).toEqual([]);
  });

  it('is inert outside NODE_ENV=test whatever PAY_FAULTS says', () => {
    const { crash, reached } = recordingCrash();
    for (const env of [
      { PAY_FAULTS: 'payment.after_key_insert' },
      { NODE_ENV: 'production', PAY_MODE: 'embedded', PAY_FAULTS: 'payment.after_key_insert' },
    ]) {
      const faults = faultPointsFrom(loadConfig(env), silentLogger, crash);
      expect(faults).toBe(noFaults);
      faults.reach('payment.after_key_insert');
    }
    expect(reached).toEqual([]);
  });

  it('refuses a hand-built config that arms points outside NODE_ENV=test', () => {
    const { crash, reached } = recordingCrash();
    const faults = faultPointsFrom(
      { nodeEnv: 'development', faults: ['payment.before_confirm'] },
      silentLogger,
      crash,
    );
    faults.reach('payment.before_confirm');
    expect(reached).toEqual([]);
  });

  it('crashes at the points PAY_FAULTS names and only there, each time one is reached', () => {
    const { crash, reached } = recordingCrash();
    const config = loadConfig({
      NODE_ENV: 'test',
      PAY_FAULTS: 'payment.before_confirm,payment.after_commit_before_response',
    });
    const faults = faultPointsFrom(config, silentLogger, crash);
    faults.reach('payment.after_key_insert');
    faults.reach('payment.before_confirm');
    faults.reach('payment.after_confirm_before_commit');
    faults.reach('payment.after_commit_before_response');
    faults.reach('payment.before_confirm');
    expect(reached).toEqual([
      'payment.before_confirm',
      'payment.after_commit_before_response',
      'payment.before_confirm',
    ]);
  });

  it('warns once, at wiring, that the process is armed', () => {
    const warnings: unknown[][] = [];
    const logger: Logger = { ...silentLogger, warn: (...args: unknown[]) => warnings.push(args) };
    faultPointsFrom(
      loadConfig({ NODE_ENV: 'test', PAY_FAULTS: 'payment.after_key_insert' }),
      logger,
      () => undefined,
    );
    expect(warnings).toEqual([
      [expect.stringContaining('crash points armed'), { faults: ['payment.after_key_insert'] }],
    ]);
  });
});
