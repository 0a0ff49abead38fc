#!/usr/bin/env node
/*
 * `pnpm test:chaos`: RELIABILITY.md H2's nightly "chaos" job. Runs the randomized fault schedule (B5),
 * kill under load (C2) and the inbox storm (D4) at big sizes, one after another with fresh seeds, until
 * CHAOS_MINUTES (default 30) have passed; each of those files checks K1–K5. Every round's seed is printed
 * by the test it belongs to, so a failure replays with `SEED=<n>`, the sizes printed, and that file.
 *
 * Not part of CI (it runs for half an hour); the battery runs the same files at CI sizes. Needs the build
 * (`pnpm build`) and PostgreSQL on 127.0.0.1:5432, as the battery does. Exits non-zero on the first
 * failed round, after printing which.
 */
'use strict';

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
// B5's NIGHTLY size (5,000 runs of 50 payments) alone takes hours: a chaos round runs 100 of 10.
const FILES = [
  {
    file: 'test/battery/b5-fault-schedule.battery.test.ts',
    env: { NIGHTLY: '0', B5_RUNS: '100', B5_PAYMENTS: '10' },
  },
  { file: 'test/battery/c2-kill-under-load.battery.test.ts', env: { NIGHTLY: '1' } },
  { file: 'test/battery/d4-inbox-storm.battery.test.ts', env: { NIGHTLY: '1' } },
];

const minutes = Number(process.env.CHAOS_MINUTES ?? 30);
if (!(minutes > 0)) {
  process.stderr.write('chaos: CHAOS_MINUTES must be a positive number\n');
  process.exit(2);
}
const until = Date.now() + minutes * 60_000;
let rounds = 0;
for (let i = 0; Date.now() < until; i++) {
  const { file, env: sizes } = FILES[i % FILES.length];
  rounds += 1;
  const started = Date.now();
  process.stdout.write(`chaos: round ${rounds}, ${file} ${JSON.stringify(sizes)}\n`);
  // No SEED in the environment: each round draws its own and prints it.
  const { SEED: _seed, ...env } = process.env;
  const result = spawnSync(
    'pnpm',
    ['exec', 'jest', '--config', 'jest.battery.config.js', '--runInBand', file],
    { cwd: path.join(ROOT, 'apps/api'), env: { ...env, ...sizes }, stdio: 'inherit' },
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (result.status !== 0) {
    process.stdout.write(
      `chaos: round ${rounds} (${file}) FAILED after ${seconds} s: its seed is printed above\n`,
    );
    process.exit(1);
  }
  process.stdout.write(`chaos: round ${rounds} passed in ${seconds} s\n`);
}
process.stdout.write(`chaos: ${rounds} rounds passed in ${minutes} minutes\n`);
