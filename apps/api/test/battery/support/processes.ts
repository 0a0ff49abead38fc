import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

/*
 * The real processes the battery runs: `node apps/api/dist/main.js` (the API, killed and restarted at
 * will) and `node apps/cli/bin/run.js` (the CLI's `pay recover`). Both get only the variables given, never
 * the test run's own environment.
 */

const API_MAIN = path.join(__dirname, '../../../dist/main.js');
const CLI_RUN = path.join(__dirname, '../../../../cli/bin/run.js');

/** A generous hang guard for a process to start or a command to finish, never a timing assertion. */
const HANG_GUARD_MS = 60_000;

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error(`unexpected address ${String(address)}`)),
      );
    });
  });
}

/** How a child process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running API process. */
export interface ApiProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves when the process has ended, however it ended. */
  readonly exited: Promise<Exit>;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited after the hang guard. */
  stop(): Promise<Exit>;
}

function baseEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the API with `env` and resolves once `/readyz` answers 200. Throws with its output when it
 * exits first or the hang guard passes. It listens on `port` when given (a Stripe webhook endpoint
 * registered before the API starts, an API that must come back at the same address), else a free one.
 */
export async function startApi(env: Record<string, string>, port?: number): Promise<ApiProcess> {
  port ??= await freePort();
  const child = spawn(process.execPath, [API_MAIN], {
    env: baseEnv({ ...env, PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = exitOf(child);
  const url = `http://127.0.0.1:${port}`;
  const api: ApiProcess = {
    url,
    child,
    exited,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
        const exit = await exited;
        clearTimeout(timer);
        return exit;
      }
      return exited;
    },
  };
  const deadline = Date.now() + HANG_GUARD_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the API exited before it was ready:\n${output}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the API was not ready within ${HANG_GUARD_MS} ms:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) {
        return api;
      }
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
}

/** What a CLI run printed and how it ended. */
export interface CliRun {
  readonly exit: Exit;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `pay <args>` (the built CLI) with `env`, to its end or the hang guard. */
export function runCli(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI_RUN, ...args], {
    env: baseEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
  return exitOf(child).then((exit) => {
    clearTimeout(timer);
    return { exit, stdout, stderr };
  });
}
