import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { createTestDatabase } from '../../src/testing.js';

/*
 * Several processes start at once on an empty database, as a deploy of N replicas does, and each
 * runs the migrator of the BUILT package. The advisory lock must make exactly one of them apply the
 * migrations and the others find nothing to do.
 */

const DIST = path.resolve(__dirname, '../../dist/index.js');
const MIGRATORS = 6;
const ROUNDS = process.env.NIGHTLY === '1' ? 20 : 3;

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts a migrator process that loads the package, says `ready`, and migrates when told `go`. */
function startMigrator(url: string) {
  const script = `
    const { migratePostgres } = require(${JSON.stringify(DIST)});
    process.stdout.write('ready\\n');
    process.stdin.once('data', () => {
      migratePostgres(process.env.PAY_BATTERY_URL).then(
        (result) => { process.stdout.write(JSON.stringify(result) + '\\n'); process.exit(0); },
        (err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); },
      );
    });`;
  const child = spawn(process.execPath, ['-e', script], {
    env: { ...process.env, PAY_BATTERY_URL: url, NODE_OPTIONS: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (stdout.includes('ready\n')) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', () => reject(new Error(`migrator exited before it was ready: ${stderr}`)));
  });
  const done = new Promise<ChildResult>((resolve) => {
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
  return { ready, done, go: () => child.stdin.end('go\n') };
}

function shippedMigrations(): number {
  const journal = path.resolve(__dirname, '../../migrations/meta/_journal.json');
  return (JSON.parse(fs.readFileSync(journal, 'utf8')) as { entries: unknown[] }).entries.length;
}

async function journalOf(url: string): Promise<{ hashes: string[]; roles: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    const hashes = await sql<{ hash: string }[]>`SELECT hash FROM pay.__migrations ORDER BY id`;
    const [roles] = await sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'pay_service'`;
    return { hashes: hashes.map((row) => row.hash), roles: roles?.n ?? 0 };
  } finally {
    await sql.end();
  }
}

describe(`${MIGRATORS} processes migrating one empty database at once`, () => {
  beforeAll(() => {
    if (
      !fs.existsSync(DIST) ||
      !fs.existsSync(path.resolve(__dirname, '../../migrations/meta/_journal.json'))
    ) {
      throw new Error('The battery runs the built package: run `pnpm --filter @pay/db build` first.');
    }
  });

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: all succeed, one applies everything, the journal lists each migration once`, async () => {
      const db = await createTestDatabase(`db_battery_${round}`);
      try {
        const migrators = Array.from({ length: MIGRATORS }, () => startMigrator(db.url));
        await Promise.all(migrators.map((m) => m.ready));
        migrators.forEach((m) => m.go());
        const results = await Promise.all(migrators.map((m) => m.done));

        const failures = results.filter((r) => r.code !== 0);
        expect(failures).toEqual([]);
        const applied = results.map(
          (r) => (JSON.parse(r.stdout.split('\n')[1] ?? '') as { applied: number }).applied,
        );
        const total = shippedMigrations();
        expect(applied.sort()).toEqual([...Array<number>(MIGRATORS - 1).fill(0), total]);
        const journal = await journalOf(db.url);
        expect(journal.hashes).toHaveLength(total);
        expect(new Set(journal.hashes).size).toBe(total);
        expect(journal.roles).toBe(1);
      } finally {
        await db.drop();
      }
    });
  }
});
