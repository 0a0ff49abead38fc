import fs from 'node:fs';
import { noFaults, type FaultPoints, type Logger } from '@pay/core';
import type { PayConfig } from './config.js';

/** How an armed crash point ends the process; injectable so a unit test survives reaching one. */
export type CrashProcess = (point: string) => void;

/**
 * The real crash: one line on stderr, then SIGKILL to this very process. The line is written with
 * `fs.writeSync` because a SIGKILL leaves no chance to flush a stream; a test reading the child's
 * stderr learns where it died. SIGKILL, not `process.exit`: no `finally`, no handler and no pending
 * write may run, exactly as when the machine loses power.
 */
export const killProcess: CrashProcess = (point) => {
  fs.writeSync(2, `pay: crash point ${point} reached (PAY_FAULTS); killing process ${process.pid}\n`);
  process.kill(process.pid, 'SIGKILL');
};

/**
 * The crash points the reliability battery arms with `PAY_FAULTS` (RELIABILITY.md C). Inert
 * ({@link noFaults}) unless the configuration armed some, which loadConfig allows only under
 * `NODE_ENV=test`, so a production process can never reach one. An armed point calls `crash` each time
 * it is reached; every other point does nothing.
 */
export function faultPointsFrom(
  config: Pick<PayConfig, 'nodeEnv' | 'faults'>,
  logger: Logger,
  crash: CrashProcess = killProcess,
): FaultPoints {
  // loadConfig already drops PAY_FAULTS outside tests; a hand-built config must not get round that.
  if (config.nodeEnv !== 'test' || config.faults.length === 0) {
    return noFaults;
  }
  const armed: ReadonlySet<string> = new Set(config.faults);
  logger.warn('crash points armed: this process kills itself when it reaches one', {
    faults: [...armed],
  });
  return {
    reach(point: string): void {
      if (armed.has(point)) {
        crash(point);
      }
    },
  };
}
