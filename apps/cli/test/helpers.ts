import path from 'node:path';
import { runCommand } from '@oclif/test';

export const CLI_ROOT = path.resolve(__dirname, '..');

export interface CommandRun<T> {
  readonly stdout: string;
  readonly stderr: string;
  readonly error: (Error & { oclif?: { exit?: number }; code?: string }) | undefined;
  readonly result: T | undefined;
}

/** Runs `pay <args>` in-process with oclif's runner. It re-splits arguments on spaces, so keep each one a single word. */
export async function pay<T = unknown>(args: string[]): Promise<CommandRun<T>> {
  const run = await runCommand<T>(args, { root: CLI_ROOT });
  // oclif sets process.exitCode for a failed command, which would fail the whole jest run.
  process.exitCode = undefined;
  return run as CommandRun<T>;
}

/** Runs `pay <args> --json` and parses stdout, failing with everything printed when it is not JSON. */
export async function payJson<T>(args: string[]): Promise<T> {
  const run = await pay<T>([...args, '--json']);
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(
      `pay ${args.join(' ')} printed no JSON.\nstdout: ${run.stdout}\nstderr: ${run.stderr}\nerror: ${String(run.error)}`,
    );
  }
}
