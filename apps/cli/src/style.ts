/**
 * Colour for people only: on when the stream is a terminal and NO_COLOR (https://no-color.org) is unset
 * or empty, off for pipes, files and `TERM=dumb`; FORCE_COLOR (not `0`) turns it on anyway.
 */
export function colorEnabled(
  stream: { readonly isTTY?: boolean | undefined },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') {
    return false;
  }
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') {
    return env.FORCE_COLOR !== '0';
  }
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** The text in bold when `on`. */
export function bold(text: string, on: boolean): string {
  return on ? `\u001b[1m${text}\u001b[22m` : text;
}

/** The text in red when `on`. */
export function red(text: string, on: boolean): string {
  return on ? `\u001b[31m${text}\u001b[39m` : text;
}
