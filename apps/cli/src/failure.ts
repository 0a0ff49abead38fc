import { Errors } from '@oclif/core';
import { isPayError } from '@pay/core';
import { EXIT_ERROR } from './exit-codes.js';

/** A failed command as it is printed: one line, a stable code, and the exit status. */
export interface Failure {
  readonly message: string;
  readonly code: string;
  readonly exit: number;
  readonly param?: string;
}

/** The code of a failure oclif raised while reading the command line (unknown flag, missing argument…). */
export const USAGE_ERROR_CODE = 'invalid_request';

/** The code of a failure nothing named: a bug, or a library that threw something unexpected. */
export const UNEXPECTED_ERROR_CODE = 'internal_error';

/**
 * One line: oclif's parse errors span lines ("Parsing --account\n\t…\nSee more help with --help") and a
 * stack trace helps no operator, so lines are joined and the help hint dropped (the usage is in --help).
 */
export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'See more help with --help')
    .join(' ')
    .replace(/\s+/g, ' ')
    .replace(/^The following errors? occurred: /, '')
    .replace(/^Parsing (--[\w-]+) /, '$1: ');
}

/**
 * What to print for an error a command threw: a PayError keeps its code and exits 2; an oclif error keeps
 * the exit status it was raised with (2 for usage, as oclif does; `this.error(…, {exit: 1})` for a
 * problem found); anything else is an unexpected error, exit 2, with its own code when it has one
 * (`ECONNREFUSED`).
 */
export function describeFailure(err: unknown): Failure {
  if (isPayError(err)) {
    return {
      message: oneLine(err.message),
      code: err.code,
      exit: EXIT_ERROR,
      ...(err.param === undefined ? {} : { param: err.param }),
    };
  }
  if (err instanceof Errors.CLIError) {
    const code = typeof err.code === 'string' && err.code !== '' ? err.code : USAGE_ERROR_CODE;
    // Our own `(code)` suffix from an earlier pass is not repeated.
    const message = oneLine(err.message).replace(new RegExp(` \\(${escape(code)}\\)$`), '');
    return { message, code, exit: err.oclif.exit ?? EXIT_ERROR };
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      message: oneLine(err.message) || err.name,
      code: typeof code === 'string' && code !== '' ? code : UNEXPECTED_ERROR_CODE,
      exit: EXIT_ERROR,
    };
  }
  return { message: oneLine(String(err)), code: UNEXPECTED_ERROR_CODE, exit: EXIT_ERROR };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
