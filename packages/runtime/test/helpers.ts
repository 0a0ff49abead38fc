import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '@pay/core';
import { createPay, loadConfig, type Pay, type PayRole } from '../src/index.js';

/** A fresh temporary folder, removed by the returned function. */
export function makeTempDir(prefix = 'pay-rt-'): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** createPay on the embedded data folder `dataDir`. */
export function openEmbedded(dataDir: string, role: PayRole = 'api'): Promise<Pay> {
  return createPay(loadConfig({ PAY_DATA_DIR: dataDir }), { logger: silentLogger, role });
}

const CHILD = path.join(__dirname, 'fixtures/pay-child.cjs');

/** Output of a finished child process. */
export interface ChildResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the child fixture to completion (it uses the built dist/, like a real second process would). */
export function runChild(args: string[]): Promise<ChildResult> {
  const child = spawnChild(args);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts the child fixture; `nextLine()` resolves with each JSON line it prints. */
export function startChild(args: string[]): { child: ChildProcess; nextLine: () => Promise<unknown> } {
  const child = spawnChild(args);
  let buffer = '';
  let stderr = '';
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const waiter = waiters.shift();
      if (waiter === undefined) {
        lines.push(line);
      } else {
        waiter(line);
      }
      newline = buffer.indexOf('\n');
    }
  });
  const nextLine = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const queued = lines.shift();
      if (queued !== undefined) {
        resolve(JSON.parse(queued));
        return;
      }
      child.once('exit', (code) => reject(new Error(`child exited with ${String(code)}: ${stderr}`)));
      waiters.push((line) => resolve(JSON.parse(line)));
    });
  return { child, nextLine };
}

function spawnChild(args: string[]): ChildProcess {
  return spawn(process.execPath, [CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
  });
}

/** Resolves when `child` has exited, with its exit code. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode);
  }
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Whether `promise` settles within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return settled;
}
