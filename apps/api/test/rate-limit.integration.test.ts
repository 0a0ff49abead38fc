import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { generateApiKeySecret, silentLogger, type IssuedApiKey } from '@pay/core';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import { createPay, loadConfig, type Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import { createApp, createMetrics, type HttpMetrics } from '../src/index.js';
import { captureLogs, makeTempDir, openPostgresPay } from './helpers.js';

const operator = { type: 'cli_operator', id: 'ops-test' } as const;
const LIMIT = 3;
const MAIN = path.join(__dirname, '../dist/main.js');

/** The response as one object, so a failing assertion prints all of it. */
const summary = (res: request.Response) => ({
  status: res.status,
  body: res.body as unknown,
  limit: res.headers['ratelimit-limit'],
  remaining: res.headers['ratelimit-remaining'],
  retryAfter: res.headers['retry-after'],
});

/** One SQL statement through psql as the test database's owner (not pay's role), its output trimmed. */
function psql(url: string, statement: string): string {
  return execFileSync('psql', [url, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-c', statement], {
    encoding: 'utf8',
  }).trim();
}

/** Every hit counted for `bucket`, whatever windows they fell in; and every counter row there is. */
function countedHits(url: string, bucket?: string): number {
  const where = bucket === undefined ? '' : ` where bucket = '${bucket.replace(/'/g, "''")}'`;
  return Number(psql(url, `select coalesce(sum(hits), 0) from pay.rate_limit_buckets${where}`));
}

/** An account with a service key, made through the services as the CLI would. */
async function newTenant(pay: Pay, name: string): Promise<IssuedApiKey> {
  const account = await pay.services.accounts.createAccount(name, operator);
  return pay.services.accounts.createApiKey(
    { accountId: account.id, name: 'svc', role: 'service' },
    operator,
  );
}

const bucketOf = (key: IssuedApiKey) => `api_key:${key.apiKey.id}`;

describe('rate limiting per API key (PostgreSQL)', () => {
  let database: TestDatabase;
  let pay: Pay;
  let otherPay: Pay;
  let app: Express;
  let otherApp: Express;
  let metrics: HttpMetrics;
  const logs = captureLogs();

  beforeAll(async () => {
    database = await createTestDatabase('api_rate_limit');
    pay = await openPostgresPay(database.url, { PAY_RATE_LIMIT: String(LIMIT) });
    // A second, independent instance over the same database: what a second API process is.
    otherPay = await openPostgresPay(database.url, { PAY_RATE_LIMIT: String(LIMIT) });
    metrics = createMetrics();
    app = createApp({ pay, metrics, logger: logs.logger });
    otherApp = createApp({ pay: otherPay });
  });

  afterAll(async () => {
    await otherPay?.close();
    await pay?.close();
    await database?.drop();
  });

  const get = (target: Express, key: IssuedApiKey, path = '/api/v1/plans') =>
    request(target).get(path).set('Authorization', `Bearer ${key.secret}`);

  const auditOf = async (key: IssuedApiKey) =>
    (await pay.store.repos.audit.list(key.apiKey.accountId, { limit: 100 })).data.map((e) => e.id);

  const refusedCount = async () => (await metrics.rateLimited.get()).values[0]?.value ?? 0;

  it('answers the (limit+1)th request in a minute with a 429, Retry-After and the error body', async () => {
    const key = await newTenant(pay, 'Acme');
    const allowed = [];
    for (let i = 0; i < LIMIT; i++) {
      allowed.push(await get(app, key));
    }
    allowed.forEach((res, i) => {
      expect(summary(res)).toMatchObject({ status: 200, limit: '3', remaining: String(LIMIT - 1 - i) });
      // Seconds until every hit counted now has left the sliding minute: within two windows.
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThanOrEqual(60);
      expect(Number(res.headers['ratelimit-reset'])).toBeLessThanOrEqual(120);
    });
    const refusedBefore = await refusedCount();
    const auditBefore = await auditOf(key);

    const refused = await get(app, key);
    expect(summary(refused)).toEqual({
      status: 429,
      body: {
        error: {
          type: 'rate_limit_error',
          code: 'rate_limited',
          message: expect.stringMatching(
            /^Too many requests: the limit is 3 per minute\. Retry after \d+ seconds?\.$/,
          ),
          request_id: refused.headers['request-id'],
        },
      },
      limit: '3',
      remaining: '0',
      retryAfter: expect.stringMatching(/^\d+$/),
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(120);
    expect((refused.body as { error: { message: string } }).error.message).toContain(
      `after ${retryAfter} second`,
    );
    expect(await refusedCount()).toBe(refusedBefore + 1);
    // The refused request was counted too (a client that keeps calling stays refused), and nothing else
    // of this account was written.
    expect(countedHits(database.url, bucketOf(key))).toBe(LIMIT + 1);
    expect((await get(app, key)).status).toBe(429);
    expect(await auditOf(key)).toEqual(auditBefore);
  });

  it("leaves other accounts' keys alone when one key is over its limit", async () => {
    const flooding = await newTenant(pay, 'Flood');
    const other = await newTenant(pay, 'Bystander');
    for (let i = 0; i <= LIMIT; i++) {
      await get(app, flooding);
    }
    expect((await get(app, flooding)).status).toBe(429);
    const res = await get(app, other);
    expect(summary(res)).toMatchObject({ status: 200, limit: '3', remaining: '2' });
    expect(countedHits(database.url, bucketOf(other))).toBe(1);
  });

  it('counts each key on its own, even two keys of one account', async () => {
    const first = await newTenant(pay, 'Two keys');
    const second = await pay.services.accounts.createApiKey(
      { accountId: first.apiKey.accountId, name: 'second', role: 'service' },
      operator,
    );
    for (let i = 0; i <= LIMIT; i++) {
      await get(app, first);
    }
    expect(summary(await get(app, second))).toMatchObject({ status: 200, remaining: '2' });
  });

  it('shares one count between two app instances over one database', async () => {
    const key = await newTenant(pay, 'Shared');
    const answers = [
      await get(app, key),
      await get(otherApp, key),
      await get(app, key),
      await get(otherApp, key),
      await get(app, key),
    ];
    expect(answers.map((res) => [res.status, res.headers['ratelimit-remaining']])).toEqual([
      [200, '2'],
      [200, '1'],
      [200, '0'],
      [429, '0'],
      [429, '0'],
    ]);
    expect(countedHits(database.url, bucketOf(key))).toBe(5);
  });

  it('lets exactly `limit` of many concurrent requests through across both instances', async () => {
    const key = await newTenant(pay, 'Concurrent');
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => get(i % 2 === 0 ? app : otherApp, key)),
    );
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses).toEqual([...Array(LIMIT).fill(200), ...Array(12 - LIMIT).fill(429)]);
    expect(countedHits(database.url, bucketOf(key))).toBe(12);
  });

  it('counts nothing for routes without a key, nor for refused keys', async () => {
    const before = countedHits(database.url);
    for (let i = 0; i <= LIMIT + 1; i++) {
      const doc = await request(app).get('/api/v1/openapi.json');
      expect(doc.status).toBe(200);
      expect(doc.headers['ratelimit-limit']).toBeUndefined();
      for (const headers of [{}, { Authorization: `Bearer ${generateApiKeySecret()}` }]) {
        const refused = await request(app).get('/api/v1/plans').set(headers);
        expect(refused.status).toBe(401);
        expect(refused.headers['ratelimit-limit']).toBeUndefined();
      }
      await request(app).get('/healthz').expect(200);
    }
    expect(countedHits(database.url)).toBe(before);
  });

  it('answers a retryable 503, not a 500 nor a free pass, when the counters cannot be written', async () => {
    const key = await newTenant(pay, 'Outage');
    // pay's role loses its grant: every upsert fails as it would with the table unreachable.
    psql(database.url, 'REVOKE INSERT, UPDATE ON pay.rate_limit_buckets FROM pay_service');
    let res: request.Response;
    try {
      res = await get(app, key);
    } finally {
      psql(database.url, 'GRANT INSERT, UPDATE ON pay.rate_limit_buckets TO pay_service');
    }
    expect(summary(res)).toEqual({
      status: 503,
      body: {
        error: {
          type: 'api_error',
          code: 'dependency_unavailable',
          message: 'The rate limiter could not count this request; retry shortly.',
          request_id: res.headers['request-id'],
          retryable: true,
        },
      },
      limit: undefined,
      remaining: undefined,
      retryAfter: '2',
    });
    expect(res.text).not.toMatch(/permission denied|rate_limit_buckets|at .*\.js/);
    expect(countedHits(database.url, bucketOf(key))).toBe(0);
    // Logged once, with the request id and the database's own reason.
    const lines = (await logs.lines()).filter((line) => line.requestId === res.headers['request-id']);
    expect(lines.filter((line) => line.message === 'request failed')).toHaveLength(1);
    expect(JSON.stringify(lines)).toContain('permission denied');

    // With the grant back, the same key is counted from its first request.
    expect(summary(await get(app, key))).toMatchObject({ status: 200, remaining: '2' });
  });
});

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

/** `node dist/main.js` on `port`, with only the variables given; resolves once /readyz answers 200. */
async function startApiProcess(
  env: Record<string, string>,
  port: number,
): Promise<{ child: ChildProcess; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the API process did not become ready:\n${output}`);
    }
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ready) {
      return { child, output: () => output, stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('rate limiting across two API processes (PostgreSQL)', () => {
  let database: TestDatabase;
  let pay: Pay;

  beforeAll(async () => {
    database = await createTestDatabase('api_rate_limit_procs');
    pay = await openPostgresPay(database.url);
  });

  afterAll(async () => {
    await pay?.close();
    await database?.drop();
  });

  it('holds one limit for a key whose requests alternate between the processes', async () => {
    const key = await newTenant(pay, 'Two processes');
    const env = { DATABASE_URL: database.url, PAY_RATE_LIMIT: String(LIMIT), PAY_LOG_LEVEL: 'error' };
    const [portA, portB] = [await freePort(), await freePort()];
    const processes = await Promise.all([startApiProcess(env, portA), startApiProcess(env, portB)]);
    try {
      const answers = [];
      for (const port of [portA, portB, portA, portB, portA]) {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/plans`, {
          headers: { Authorization: `Bearer ${key.secret}` },
        });
        await res.arrayBuffer();
        answers.push([
          res.status,
          res.headers.get('ratelimit-remaining'),
          res.headers.get('retry-after') !== null,
        ]);
      }
      expect(answers).toEqual([
        [200, '2', false],
        [200, '1', false],
        [200, '0', false],
        [429, '0', true],
        [429, '0', true],
      ]);
      expect(countedHits(database.url, bucketOf(key))).toBe(5);
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
    }
  });
});

describe('rate limiting embedded (PGlite)', () => {
  const temp = makeTempDir('pay-api-rate-');
  let pay: Pay;

  beforeAll(async () => {
    pay = await createPay(loadConfig({ PAY_DATA_DIR: temp.dir, PAY_RATE_LIMIT: '2' }), {
      logger: silentLogger,
    });
  });

  afterAll(async () => {
    await pay?.close();
    temp.remove();
  });

  it('counts in the embedded database like in PostgreSQL', async () => {
    const app = createApp({ pay });
    const key = await newTenant(pay, 'Embedded');
    const other = await newTenant(pay, 'Embedded bystander');
    const answers = [];
    for (let i = 0; i < 3; i++) {
      answers.push(await request(app).get('/api/v1/plans').set('Authorization', `Bearer ${key.secret}`));
    }
    expect(answers.map((res) => [res.status, res.headers['ratelimit-remaining']])).toEqual([
      [200, '1'],
      [200, '0'],
      [429, '0'],
    ]);
    expect(Number(answers[2]?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const bystander = await request(app).get('/api/v1/plans').set('Authorization', `Bearer ${other.secret}`);
    expect(summary(bystander)).toMatchObject({ status: 200, limit: '2', remaining: '1' });
  });
});
