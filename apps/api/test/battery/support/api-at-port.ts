import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ApiProcess, Exit } from './processes.js';

/*
 * The API on a port chosen in advance: a Stripe webhook endpoint is registered with a URL before the
 * API that answers it starts, and the API must come back at the same address after it went down.
 * Otherwise as `startApi` in processes.ts (which always picks a fresh port).
 */

const API_MAIN = path.join(__dirname, '../../../dist/main.js');
const HANG_GUARD_MS = 60_000;

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Starts `node apps/api/dist/main.js` on `port` with exactly `env`; resolves once `/readyz` says 200. */
export async function startApiAtPort(env: Record<string, string>, port: number): Promise<ApiProcess> {
  const child = spawn(process.execPath, [API_MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port) },
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
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
