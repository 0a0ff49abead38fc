import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeTempDir } from './helpers.js';

const MAIN = path.join(__dirname, '../dist/main.js');

/** A port nobody listens on right now. */
function freePort(): Promise<number> {
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

interface Started {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exit: Promise<number | null>;
}

/** `node dist/main.js` with only the variables given (never the test run's DATABASE_URL). */
function startMain(env: Record<string, string>): Started {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

async function waitFor(predicate: () => boolean, what: string, started: Started, ms = 45_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (started.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no ${what}; stdout:\n${started.stdout()}\nstderr:\n${started.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('node dist/main.js', () => {
  const temp = makeTempDir();
  afterAll(() => temp.remove());

  it('starts embedded, answers /readyz, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const dataDir = path.join(temp.dir, 'data');
    const started = startMain({ PAY_DATA_DIR: dataDir, PORT: String(port) });
    try {
      const banner = new RegExp(
        `pay listening on http://localhost:${port} — mode: embedded \\(SANDBOX\\) — data: ${dataDir} — stripe: sandbox at http://127\\.0\\.0\\.1:\\d+\n`,
      );
      await waitFor(() => banner.test(started.stdout()), 'start banner', started);

      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 200,
        body: { status: 'ready', mode: 'embedded (SANDBOX)', database: 'ok', migrations: expect.any(Object) },
      });
      expect(res.headers.get('request-id')).toMatch(/^req_/);

      // The versioned API is behind API keys; the demo plans are there, but not without one.
      const plans = await fetch(`http://127.0.0.1:${port}/api/v1/plans`);
      expect(plans.status).toBe(401);

      started.child.kill('SIGTERM');
      expect(await started.exit).toBe(0);
    } finally {
      started.child.kill('SIGKILL');
    }
    const lines = started
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ message: 'embedded demo data seeded', accountId: expect.any(String) }),
        expect.objectContaining({ message: 'pay started', mode: 'embedded', port }),
        expect.objectContaining({ message: 'request', path: '/readyz', status: 200 }),
        expect.objectContaining({ message: 'pay stopped', signal: 'SIGTERM' }),
      ]),
    );
    expect(started.stderr()).toBe('');
    // The data folder is released: no lock, no service.json, no socket left behind; the demo seed's
    // marker stays, so the next start does not seed again.
    expect(fs.readdirSync(dataDir).sort()).toEqual(['pgdata', 'seed.json']);
  });

  it('exits 1 naming PORT when PORT is not a port, without a stack', async () => {
    const started = startMain({ PAY_DATA_DIR: path.join(temp.dir, 'unused'), PORT: 'abc' });
    expect(await started.exit).toBe(1);
    expect(started.stderr()).toBe(
      'pay: Invalid configuration (1 variable):\n  PORT: expected an integer from 1 to 65535, got "abc"\n',
    );
    expect(started.stdout()).toBe('');
    expect(fs.existsSync(path.join(temp.dir, 'unused'))).toBe(false);
  });
});
