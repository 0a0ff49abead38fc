import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CLI_ROOT } from './helpers';

const REPO_ROOT = path.resolve(CLI_ROOT, '../..');
const API_MAIN = path.join(REPO_ROOT, 'apps/api/dist/main.js');
const CLI_BIN = path.join(CLI_ROOT, 'bin/run.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** `pay <args> --json` as its own process, the way an operator runs it beside the service. */
function payProcess<T>(dataDir: string, args: string[]): T {
  const env: NodeJS.ProcessEnv = { ...process.env, PAY_DATA_DIR: dataDir, PAY_LOG_LEVEL: 'error' };
  delete env.DATABASE_URL;
  const run = spawnSync(process.execPath, [CLI_BIN, ...args, '--json'], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) {
    throw new Error(
      `pay ${args.join(' ')} exited ${String(run.status)}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`,
    );
  }
  return JSON.parse(run.stdout) as T;
}

/**
 * A GET on a fresh connection. The CLI processes in between take seconds, long enough for the service to
 * close fetch's pooled keep-alive connection just as fetch reuses it ("other side closed").
 */
function get(port: number, path: string, secret?: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const headers = secret === undefined ? {} : { Authorization: `Bearer ${secret}` };
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
  });
}

async function waitForReady(port: number, service: ChildProcess, output: () => string): Promise<void> {
  // A hang guard, not a timing assertion: PGlite's first start takes a few seconds on a busy machine.
  for (let i = 0; i < 240; i++) {
    if (service.exitCode !== null) {
      throw new Error(`the service exited early (${service.exitCode}):\n${output()}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the service never became ready:\n${output()}`);
}

describe('the CLI on the embedded default', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pay-cli-embedded-'));
  });

  afterAll(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  // The CLI and the service, started one after another several times, each a PGlite cold start (2–10 s
  // on 2 busy cores): the hang guard is sized for that, not the package's 60 s default.
  it('works on the same data whether or not the service runs', async () => {
    // No service: the CLI opens the data folder itself (and creates and migrates it).
    const before = payProcess<{ id: string }>(dataDir, ['accounts', 'create', 'Before']);

    const port = await freePort();
    let output = '';
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PAY_DATA_DIR: dataDir,
      PORT: String(port),
      PAY_LOG_LEVEL: 'warn',
    };
    delete env.DATABASE_URL;
    const service = spawn(process.execPath, [API_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    service.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    service.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitForReady(port, service, () => output);

      // While the service holds the data, the CLI reaches it through the service's socket.
      const during = payProcess<{ id: string }>(dataDir, ['accounts', 'create', 'During']);
      const key = payProcess<{ account_id: string; secret: string }>(dataDir, [
        'api-keys',
        'create',
        '--account',
        before.id,
        '--role',
        'admin',
        '--name',
        'ops',
      ]);
      expect(key.account_id).toBe(before.id);
      const status = payProcess<{ mode: string; migrations: { applied: number; total: number } }>(dataDir, [
        'status',
      ]);
      expect(status.mode).toBe('embedded (SANDBOX)');
      expect(status.migrations.applied).toBe(status.migrations.total);

      // The service still answers after the CLI's connections closed.
      expect((await get(port, '/readyz')).status).toBe(200);

      // The service seeded the demo plans at its start; a key of the demo account sees them over HTTP.
      const { demoAccountId } = JSON.parse(fs.readFileSync(path.join(dataDir, 'seed.json'), 'utf8')) as {
        demoAccountId: string;
      };
      const demoPlans = payProcess<{ data: Array<{ name: string }> }>(dataDir, [
        'plans',
        'list',
        '--account',
        demoAccountId,
      ]);
      expect(demoPlans.data.map((p) => p.name).sort()).toEqual(['Demo monthly', 'Demo yearly']);
      const demoKey = payProcess<{ secret: string }>(dataDir, [
        'api-keys',
        'create',
        '--account',
        demoAccountId,
        '--role',
        'service',
        '--name',
        'demo',
      ]);
      const overHttp = await get(port, '/api/v1/plans', demoKey.secret);
      expect(overHttp.status).toBe(200);
      expect((overHttp.body as { data: unknown[] }).data).toHaveLength(2);
      const otherAccount = await get(port, '/api/v1/plans', key.secret);
      expect(otherAccount.body).toEqual({ object: 'list', data: [], has_more: false });

      service.kill('SIGTERM');
      await new Promise((resolve) => service.once('exit', resolve));
      expect(service.exitCode).toBe(0);

      // And what the CLI wrote through the service is there when the CLI opens the folder alone again.
      const keys = payProcess<Array<{ id: string }>>(dataDir, ['api-keys', 'list', '--account', before.id]);
      expect(keys).toHaveLength(1);
      const afterwards = payProcess<Array<{ id: string }>>(dataDir, [
        'api-keys',
        'list',
        '--account',
        during.id,
      ]);
      expect(afterwards).toEqual([]);
    } finally {
      if (service.exitCode === null) {
        service.kill('SIGKILL');
      }
    }
  }, 180_000);
});
