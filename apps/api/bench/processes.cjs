/*
 * The processes under test. The sandbox and the API each run in a process of their own, so neither
 * shares an event loop with the other or with the load generator: what the API's latency shows is the
 * API, not the bench's own JSON parsing or the sandbox's work.
 */
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SANDBOX_BIN = path.join(ROOT, 'packages', 'stripe-sandbox', 'bin', 'pay-stripe-sandbox.js');
const API_MAIN = path.join(ROOT, 'apps', 'api', 'dist', 'main.js');
const START_TIMEOUT_MS = 60_000;
const OUTPUT_TAIL_BYTES = 16 * 1024;

/** A port nobody listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawns `node <nodeArgs> <script> <args>` keeping the last few KiB of its output, for the error when it dies. */
function spawnNode(script, args, env, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk) => {
    tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let stopping;
  return {
    child,
    pid: child.pid,
    output: () => tail,
    exited,
    /** SIGTERM, then SIGKILL if it has not exited within 10 s. Idempotent. */
    stop() {
      if (child.exitCode === null && child.signalCode === null) {
        stopping ??= (async () => {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        })();
      }
      return stopping ?? exited.then(() => undefined);
    },
  };
}

function exitText({ code, signal }) {
  return signal === null ? `exit code ${code}` : `signal ${signal}`;
}

/** The sandbox's own CLI on a free port; resolves with its URL once it prints it. */
async function startSandboxProcess() {
  const proc = spawnNode(SANDBOX_BIN, ['--port', '0', '--host', '127.0.0.1'], {
    PATH: process.env.PATH ?? '',
  });
  const url = await new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) {
        proc.child.stdout.off('data', onData);
        resolve(match[1]);
      }
    };
    proc.child.stdout.on('data', onData);
    proc.exited.then((how) =>
      reject(new Error(`the sandbox exited (${exitText(how)}) before listening:\n${proc.output()}`)),
    );
    setTimeout(
      () => reject(new Error(`the sandbox did not listen within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    ).unref();
  });
  return { ...proc, url };
}

/**
 * `node apps/api/dist/main.js` with exactly `env` (plus PATH and a free PORT): the bench's own
 * environment, a DATABASE_URL a developer exported say, never leaks in. `nodeArgs` go before the
 * script (`--cpu-prof`, which NODE_OPTIONS refuses). Resolves once /readyz says 200.
 */
async function startApiProcess(env, nodeArgs = []) {
  const port = await freePort();
  const proc = spawnNode(
    API_MAIN,
    [],
    { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
    nodeArgs,
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(
        `the API exited (${exitText(await proc.exited)}) before it was ready:\n${proc.output()}`,
      );
    }
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`the API was not ready within ${START_TIMEOUT_MS} ms:\n${proc.output()}`);
    }
    const ready = await fetch(`${url}/readyz`).then(
      (res) => res.arrayBuffer().then(() => res.status === 200),
      () => false,
    );
    if (ready) {
      return { ...proc, url };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The process's peak resident set size in bytes (Linux VmHWM), or null where /proc has no such line. */
function peakRssBytes(pid) {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/*
 * /proc/<pid>/stat counts CPU time in clock ticks of 1/100 s: USER_HZ is 100 on every Linux that Node
 * supports, and a run's thousands of requests make the 10 ms resolution irrelevant.
 */
const CLOCK_TICKS_PER_S = 100;

/** CPU time (user + system) the process has used so far, in ms, or null where /proc has no stat file. */
function cpuTimeMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_S : null;
  } catch {
    return null;
  }
}

/** Busy and total CPU time of the whole machine so far, in ticks (from /proc/stat), or null. */
function machineCpuTicks() {
  try {
    const [cpu] = fs.readFileSync('/proc/stat', 'utf8').split('\n');
    const ticks = cpu.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    // idle and iowait: the CPU had nothing to run.
    return { busy: total - ticks[3] - (ticks[4] ?? 0), total };
  } catch {
    return null;
  }
}

module.exports = {
  machineCpuTicks,
  ROOT,
  API_MAIN,
  SANDBOX_BIN,
  startSandboxProcess,
  startApiProcess,
  peakRssBytes,
  cpuTimeMs,
};
