import type { Hook } from '@oclif/core';
import { EXIT_ERROR } from '../exit-codes.js';
import { colorEnabled, red } from '../style.js';

/** The code of a command line naming no pay command. */
export const COMMAND_NOT_FOUND_CODE = 'command_not_found';

/**
 * `pay <typo>`: the same one-line error (or `--json` document) and exit status 2 as every other failure,
 * instead of oclif's own multi-line rendering.
 */
const hook: Hook<'command_not_found'> = function commandNotFound(options) {
  const message = `"${options.id}" is not a pay command: see ${options.config.bin} --help`;
  if (options.argv?.includes('--json') === true) {
    process.stdout.write(
      `${JSON.stringify({ error: { code: COMMAND_NOT_FOUND_CODE, message } }, null, 2)}\n`,
    );
  } else {
    process.stderr.write(
      `${red('Error:', colorEnabled(process.stderr))} ${message} (${COMMAND_NOT_FOUND_CODE})\n`,
    );
  }
  process.exitCode = EXIT_ERROR;
  return Promise.resolve();
};

export default hook;
