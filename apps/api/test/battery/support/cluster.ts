import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { AccountService, parseId, systemClock } from '@pay/core';
import { connectPostgres } from '@pay/db';
import type { Battery } from './battery.js';
import { freePort, type Exit } from './processes.js';

/*
 * The scale-out battery's own pieces: `node apps/api/dist/cluster.js` (N API processes on one port), more
 * service keys for the battery's account (so a load spread over them stays under a low per-key rate
 * limit), and requests each on a connection of its own (so node:cluster's round robin spreads them over
 * its workers, which one kept-alive connection would not).
 */

const CLUSTER_MAIN = path.join(__dirname, '../../../dist/cluster.js');

/** A generous hang guard for a process to start or stop, never a timing assertion. */
const HANG_GUARD_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A running cluster: its primary's process and what it and its workers wrote. */
export interface ClusterProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  output(): string;
  /** The pids the workers logged `pay started` with, in order (PAY_LOG_LEVEL=info or lower). */
  startedPids(): number[];
  /** SIGTERM to the primary, SIGKILL after the hang guard; resolves with how it ended. */
  stop(): Promise<Exit>;
}

/** The JSON log lines of `output` whose message is `message`. */
export function logLines(output: string, message: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .filter((entry) => entry.message === message);
}

/** Runs `node dist/cluster.js` with exactly `env` (plus PATH, HOME and PORT), without waiting for it. */
export function spawnCluster(env: Record<string, string>, port: number): ClusterProcess {
  const child = spawn(process.execPath, [CLUSTER_MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    exited,
    output: () => output,
    startedPids: () =>
      logLines(output, 'pay started')
        .map((entry) => entry.pid)
        .filter((pid): pid is number => typeof pid === 'number'),
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
}

/** Starts the cluster and resolves once `processes` workers have logged `pay started` and /readyz says 200. */
export async function startCluster(env: Record<string, string>, processes: number): Promise<ClusterProcess> {
  const cluster = spawnCluster(env, await freePort());
  await waitFor(
    cluster,
    async () =>
      cluster.startedPids().length >= processes &&
      (await fetch(`${cluster.url}/readyz`).then(
        (res) => res.status === 200,
        () => false,
      )),
    `${processes} workers ready`,
  );
  return cluster;
}

/** Polls `done` until it holds; throws with the cluster's output when the cluster exits or the guard passes. */
export async function waitFor(
  cluster: ClusterProcess,
  done: () => boolean | Promise<boolean>,
  what: string,
): Promise<void> {
  const deadline = Date.now() + HANG_GUARD_MS;
  for (;;) {
    if (await done()) {
      return;
    }
    if (cluster.child.exitCode !== null || cluster.child.signalCode !== null) {
      throw new Error(`the cluster exited before ${what}:\n${cluster.output()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`no ${what} within ${HANG_GUARD_MS} ms:\n${cluster.output()}`);
    }
    await sleep(100);
  }
}

/** Whether a process of that pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `count` more service keys of the battery's account (their secrets). */
export async function createServiceKeys(battery: Battery, count: number, label: string): Promise<string[]> {
  const db = connectPostgres(battery.database.url, { max: 1 });
  try {
    const accounts = new AccountService({ store: db.store, clock: systemClock });
    const accountId = parseId('account', battery.accountId);
    const secrets: string[] = [];
    for (let i = 0; i < count; i++) {
      const issued = await accounts.createApiKey(
        { accountId, name: `${label} ${i}`, role: 'service' },
        { type: 'cli_operator', id: 'battery' },
      );
      secrets.push(issued.secret);
    }
    return secrets;
  } finally {
    await db.close();
  }
}

/** A `GET` on a connection of its own (closed after): the status and `RateLimit-Remaining`. */
export function getOnNewConnection(
  url: string,
  apiKey: string,
): Promise<{ status: number | null; remaining: number | null; error: string | null }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, headers: { authorization: `Bearer ${apiKey}` } }, (res) => {
      res.resume();
      res.on('end', () => {
        const remaining = res.headers['ratelimit-remaining'];
        resolve({
          status: res.statusCode ?? null,
          remaining: typeof remaining === 'string' ? Number(remaining) : null,
          error: null,
        });
      });
    });
    req.on('error', (error) => resolve({ status: null, remaining: null, error: error.message }));
  });
}

/**
 * Waits, if need be, until at least `needMs` remain in the current minute: the rate limiter's fixed
 * windows are clock minutes, and a burst that straddled two would be judged by the sliding estimate
 * across them rather than by one window's exact count.
 */
export async function awaitRoomInMinute(needMs: number): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (60_000 - intoMinute < needMs) {
    await sleep(60_000 - intoMinute + 200);
  }
}
