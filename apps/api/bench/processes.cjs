/*
 * The processes under test. The sandbox and the API each run in a process of their own, so neither
 * shares an event loop with the other or with the load generator: what the API's latency shows is the
 * API, not the bench's own JSON parsing or the sandbox's work.
 *
 * Pinning (BENCH_PIN, e.g. `api:0,sandbox:1,load:1`): each named role runs on those cores only, through
 * `taskset -c` when it is spawned (api, sandbox, worker) or `taskset -a -p` for the bench process
 * itself (load). `BENCH_PIN=none` pins nothing. Whatever the pinning, a CoreSampler says which cores
 * each process was allowed and which it ran on.
 */
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SANDBOX_BIN = path.join(ROOT, 'packages', 'stripe-sandbox', 'bin', 'pay-stripe-sandbox.js');
const API_MAIN = path.join(ROOT, 'apps', 'api', 'dist', 'main.js');
const API_CLUSTER = path.join(ROOT, 'apps', 'api', 'dist', 'cluster.js');
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

/** The roles BENCH_PIN may name. */
const PIN_ROLES = ['api', 'sandbox', 'load', 'worker'];
/** The cores this process could use before pinSelf: what a role BENCH_PIN does not name gets. */
const AFFINITY_AT_START = readAffinity(process.pid);

/**
 * BENCH_PIN when unset: the API on the first core the bench may use, the sandbox and the load generator
 * on the second; nothing pinned with fewer than two. On the loaded 2-core development VM that gave
 * the better medians at c=16 (docs/performance.md, "Pinning": 37 against 31 payments/s, pay added p99
 * 660 against 710 ms, within the runs' spread): the API's event loop no longer waits behind them.
 */
const DEFAULT_PIN = (() => {
  const cpus = expandCpuList(AFFINITY_AT_START ?? '');
  return cpus.length < 2 ? 'none' : `api:${cpus[0]},sandbox:${cpus[1]},load:${cpus[1]}`;
})();

/**
 * BENCH_PIN as `{ role: cpus }` (cpus in taskset's list form, `0` or `0-1` or `0,2`); `{}` for `none`.
 * Throws on a role it does not know or a core the bench could not use at its start.
 */
function pinning(raw = pinSetting()) {
  if (raw.trim() === 'none' || raw.trim() === '') {
    return {};
  }
  // The bench's cores before pinSelf moved it: after, they would be the load generator's alone.
  const allowed = expandCpuList(AFFINITY_AT_START ?? '');
  const pins = {};
  for (const pair of raw.split(',').reduce(joinCpuLists, [])) {
    const match = /^(\w+):([\d,-]+)$/.exec(pair.trim());
    if (!match || !PIN_ROLES.includes(match[1])) {
      throw new Error(
        `BENCH_PIN must be role:cpus pairs (roles ${PIN_ROLES.join(', ')}), e.g. api:0,sandbox:1,load:1; got "${raw}"`,
      );
    }
    const cpus = expandCpuList(match[2]);
    if (cpus.length === 0 || (allowed.length > 0 && cpus.some((cpu) => !allowed.includes(cpu)))) {
      throw new Error(`BENCH_PIN: ${match[1]}:${match[2]} names a core outside ${allowed.join(',')}`);
    }
    pins[match[1]] = match[2];
  }
  return pins;
}

/** `api:0,2,sandbox:1` splits on every comma; a bare number joins the role before it again. */
function joinCpuLists(pairs, item) {
  if (/^[\d-]+$/.test(item.trim()) && pairs.length > 0) {
    pairs[pairs.length - 1] += `,${item.trim()}`;
  } else {
    pairs.push(item);
  }
  return pairs;
}

/** `0-2,5` → [0, 1, 2, 5]. */
function expandCpuList(list) {
  const cpus = [];
  for (const part of list.split(',').filter((p) => p.trim() !== '')) {
    const [from, to = from] = part.split('-').map(Number);
    for (let cpu = from; cpu <= to; cpu++) {
      cpus.push(cpu);
    }
  }
  return cpus;
}

/**
 * The command line that runs `node` on the role's cores (taskset in front), or node alone. A child
 * inherits its parent's affinity, so once the load generator is pinned, a role BENCH_PIN leaves out
 * is given the cores the bench had at its start rather than the load generator's.
 */
function pinnedCommand(role, nodeArgv) {
  const pins = pinning();
  const cpus = pins[role] ?? (pins.load !== undefined ? (AFFINITY_AT_START ?? undefined) : undefined);
  return cpus === undefined
    ? { command: process.execPath, args: nodeArgv }
    : { command: 'taskset', args: ['-c', cpus, process.execPath, ...nodeArgv] };
}

/**
 * Pins this process (the load generator) and all its threads when BENCH_PIN names `load`; returns the
 * cores it now may use. Threads started later inherit the main thread's affinity.
 */
function pinSelf() {
  const cpus = pinning().load;
  if (cpus !== undefined) {
    const result = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(
        `taskset -a -p -c ${cpus} ${process.pid} failed: ${result.error?.message ?? result.stderr.trim()}`,
      );
    }
  }
  return readAffinity(process.pid);
}

/**
 * Spawns `node <nodeArgs> <script> <args>` (on the role's cores when BENCH_PIN names it), keeping the
 * last few KiB of its output for the error when it dies. taskset execs node, so the pid is node's.
 */
function spawnNode(script, args, env, nodeArgs = [], role = null) {
  const argv = [...nodeArgs, script, ...args];
  const { command, args: commandArgs } =
    role === null ? { command: process.execPath, args: argv } : pinnedCommand(role, argv);
  const child = spawn(command, commandArgs, {
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
  // BENCH_GATEWAY_LATENCY: the sandbox holds every API request for a delay drawn from it (its --latency
  // spec, e.g. lognormal:median=300,sigma=0.69,seed=42): Stripe's own time, seeded and repeatable.
  const latency = process.env.BENCH_GATEWAY_LATENCY;
  const proc = spawnNode(
    SANDBOX_BIN,
    ['--port', '0', '--host', '127.0.0.1', ...(latency ? ['--latency', latency] : [])],
    { PATH: process.env.PATH ?? '' },
    [],
    'sandbox',
  );
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
  // BENCH_API_PROCESSES=N: N API processes on one port (apps/api/dist/cluster.js, PAY_PROCESSES=N).
  const processes = Number(process.env.BENCH_API_PROCESSES || '1');
  if (!Number.isInteger(processes) || processes < 1) {
    throw new Error(
      `BENCH_API_PROCESSES must be a positive integer, got "${process.env.BENCH_API_PROCESSES}"`,
    );
  }
  const proc = spawnNode(
    processes > 1 ? API_CLUSTER : API_MAIN,
    [],
    {
      PATH: process.env.PATH ?? '',
      ...env,
      PORT: String(port),
      ...(processes > 1 ? { PAY_PROCESSES: String(processes) } : {}),
    },
    nodeArgs,
    'api',
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

/**
 * The peak resident set size in bytes (Linux VmHWM) of the process, or of the largest of its children
 * when it has any (a cluster: each API process is one), or null where /proc has no such line.
 */
function peakRssBytes(pid) {
  const children = childPids(pid);
  if (children.length > 0) {
    const peaks = children.map(ownPeakRssBytes).filter((peak) => peak !== null);
    return peaks.length > 0 ? Math.max(...peaks) : null;
  }
  return ownPeakRssBytes(pid);
}

function ownPeakRssBytes(pid) {
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
/** The pids of `pid`'s children (a cluster primary's API processes), or [] when it has none. */
function childPids(pid) {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/))
      .filter((child) => child !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** CPU time of `pid` and its children (a cluster's primary and its API processes), in ms, or null. */
function cpuTimeMs(pid) {
  const own = ownCpuTimeMs(pid);
  if (own === null) {
    return null;
  }
  return childPids(pid).reduce((sum, child) => sum + (ownCpuTimeMs(child) ?? 0), own);
}

function ownCpuTimeMs(pid) {
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

/** `Cpus_allowed_list` of /proc/<pid>/status (`0-1`): the cores the process may run on; null without /proc. */
function readAffinity(pid) {
  try {
    const match = /^Cpus_allowed_list:\s+(\S+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? match[1] : null;
  } catch {
    return null;
  }
}

/** A thread's CPU ticks so far (user + system) and the core it last ran on (stat field 39), or null. */
function threadStat(pid, tid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command name start at field 3: utime is 14, stime 15, processor 39.
    return { ticks: Number(fields[11]) + Number(fields[12]), processor: Number(fields[36]) };
  } catch {
    return null;
  }
}

function threadsOf(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/**
 * Which cores the processes of each role ran on. Every `intervalMs` it reads each thread's CPU ticks
 * and the core it last ran on; the ticks a thread used since the previous sample are counted to that
 * core. So the shares are an estimate (a thread that moved between samples is counted where it was
 * last), good enough to tell "both cores" from "core 1 only". Reading /proc costs the load generator
 * about a millisecond per sample: it is part of the load generator's CPU figure.
 */
function createCoreSampler(intervalMs = 100) {
  /** role → Set of pids */
  const roles = new Map();
  /** `pid/tid` → ticks at the previous sample */
  const last = new Map();
  /** role → Map(core → ticks) */
  const byCore = new Map();
  /** role → Set of Cpus_allowed_list strings seen */
  const allowed = new Map();
  let timer = null;

  const sample = () => {
    for (const [role, pids] of roles) {
      const counts = byCore.get(role);
      for (const pid of pids) {
        for (const tid of threadsOf(pid)) {
          const stat = threadStat(pid, tid);
          if (stat === null || !Number.isFinite(stat.ticks)) {
            continue;
          }
          const key = `${pid}/${tid}`;
          const previous = last.get(key);
          last.set(key, stat.ticks);
          // A thread seen for the first time counts from the next sample on: its earlier ticks were
          // spent before the sampler watched (start-up, warm-up).
          if (previous !== undefined && stat.ticks > previous) {
            counts.set(stat.processor, (counts.get(stat.processor) ?? 0) + stat.ticks - previous);
          }
        }
      }
    }
  };

  return {
    /** Watches `pids` as `role` from now on (PostgreSQL's backends are added as they appear). */
    watch(role, pids) {
      if (!roles.has(role)) {
        roles.set(role, new Set());
        byCore.set(role, new Map());
        allowed.set(role, new Set());
      }
      for (const pid of pids) {
        roles.get(role).add(pid);
        const affinity = readAffinity(pid);
        if (affinity !== null) {
          allowed.get(role).add(affinity);
        }
      }
    },
    start() {
      sample();
      timer ??= setInterval(sample, intervalMs);
      timer.unref();
    },
    /** Stops sampling; per role its pids, the cores it was allowed, and its sampled CPU by core. */
    stop() {
      if (timer !== null) {
        clearInterval(timer);
        timer = null;
      }
      sample();
      const report = {};
      for (const [role, pids] of roles) {
        const counts = byCore.get(role);
        const total = [...counts.values()].reduce((a, b) => a + b, 0);
        report[role] = {
          pids: [...pids],
          allowed: [...allowed.get(role)],
          cpu_ms_sampled: (total * 1000) / CLOCK_TICKS_PER_S,
          share_by_core: Object.fromEntries(
            [...counts.keys()]
              .sort((a, b) => a - b)
              .map((core) => [String(core), total === 0 ? 0 : Number((counts.get(core) / total).toFixed(3))]),
          ),
        };
      }
      return report;
    },
  };
}

/** The cores report as printed lines, one per role (the benches and scripts/bench.cjs print the same). */
function coreLines(cores, pin) {
  const lines = [`cores (BENCH_PIN ${pin ?? 'none'}): allowed, and share of sampled CPU time by core`];
  for (const [role, c] of Object.entries(cores)) {
    const shares = Object.entries(c.share_by_core)
      .map(([core, share]) => `core ${core} ${(share * 100).toFixed(0)}%`)
      .join(', ');
    lines.push(
      `  ${role.padEnd(10)} allowed ${c.allowed.join(' / ') || 'n/a'}; ran on ${shares || 'n/a'} ` +
        `(${c.cpu_ms_sampled.toFixed(0)} ms CPU, ${c.pids.length} process${c.pids.length === 1 ? '' : 'es'})`,
    );
  }
  return lines;
}

/** BENCH_PIN as the benches apply it: the raw setting, or `none`. */
function pinSetting() {
  // Several API processes are there to use every core: pinning them to one would defeat them.
  const fallback = Number(process.env.BENCH_API_PROCESSES || '1') > 1 ? 'none' : DEFAULT_PIN;
  return (process.env.BENCH_PIN || fallback).trim() || 'none';
}

module.exports = {
  coreLines,
  createCoreSampler,
  DEFAULT_PIN,
  pinnedCommand,
  pinning,
  pinSelf,
  pinSetting,
  readAffinity,
  machineCpuTicks,
  ROOT,
  API_MAIN,
  SANDBOX_BIN,
  startSandboxProcess,
  startApiProcess,
  peakRssBytes,
  childPids,
  cpuTimeMs,
};
