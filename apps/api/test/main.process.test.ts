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

      // The first start prints the demo keys once, and a curl paying for the monthly plan with one.
      await waitFor(() => /^ {2}curl /m.test(started.stdout()), 'demo keys', started);
      const out = started.stdout();
      expect(out).toContain('shown only now');
      const admin = /^ {2}admin: +(psk_\w+)$/m.exec(out)?.[1];
      const service = /^ {2}service: +(psk_\w+)$/m.exec(out)?.[1];
      const curl = /^ {2}(curl .*)$/m.exec(out)?.[1];
      expect({ admin, service }).toEqual({ admin: expect.any(String), service: expect.any(String) });
      expect(curl).toMatch(
        new RegExp(
          `^curl -X POST http://localhost:${port}/api/v1/payments -H "Authorization: Bearer ${service}" ` +
            '-H "Idempotency-Key: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}" ' +
            `-H 'Content-Type: application/json' ` +
            `-d '\\{"user_id":"demo-user","plan_id":"pln_\\w+","payment_method_id":"pm_card_visa"\\}'$`,
        ),
      );
      const planId = /"plan_id":"(pln_\w+)"/.exec(curl ?? '')?.[1];
      for (const secret of [admin, service]) {
        const listed = await fetch(`http://127.0.0.1:${port}/api/v1/plans`, {
          headers: { Authorization: `Bearer ${secret ?? ''}` },
        });
        const body = (await listed.json()) as { data: { id: string; name: string; interval: string }[] };
        expect({ status: listed.status, monthly: body.data.find((p) => p.interval === 'month') }).toEqual({
          status: 200,
          monthly: expect.objectContaining({ id: planId, name: 'Demo monthly' }),
        });
      }

      // The printed curl, sent as it is, pays; every Stripe call it made is in the gateway histogram.
      const idempotencyKey = /Idempotency-Key: ([0-9a-f-]+)/.exec(curl ?? '')?.[1] ?? '';
      const body = /-d '(.*)'$/.exec(curl ?? '')?.[1] ?? '';
      const paid = await fetch(`http://127.0.0.1:${port}/api/v1/payments`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${service ?? ''}`,
          'Idempotency-Key': idempotencyKey,
          'Content-Type': 'application/json',
        },
        body,
      });
      const payment = (await paid.json()) as Record<string, unknown>;
      expect({ status: paid.status, payment }).toEqual({
        status: 201,
        payment: expect.objectContaining({ status: 'succeeded', amount: 1500, currency: 'usd' }),
      });
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const call of ['create_customer', 'attach_payment_method', 'create_intent', 'confirm_intent']) {
        expect(metrics).toContain(`pay_gateway_call_duration_seconds_count{call="${call}",outcome="ok"} 1`);
      }

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

    // A second start on the same data prints the banner and nothing secret.
    const again = startMain({ PAY_DATA_DIR: dataDir, PORT: String(port) });
    try {
      await waitFor(() => /pay listening on/.test(again.stdout()), 'second start banner', again);
      await waitFor(() => /"message":"pay started"/.test(again.stdout()), 'second start log', again);
      again.child.kill('SIGTERM');
      expect(await again.exit).toBe(0);
    } finally {
      again.child.kill('SIGKILL');
    }
    expect(again.stdout()).not.toMatch(/psk_|shown only now|curl/);
    expect(again.stderr()).toBe('');
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
