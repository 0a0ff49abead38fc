/*
 * The webhook bench's moving parts: Stripe's side (events read from the sandbox, signed as Stripe signs
 * them and POSTed over keep-alive connections), the payments that give the events something to be
 * about, `pay worker` processes, and plain SQL on pay's inbox to see a backlog drain.
 */
'use strict';

const { spawn } = require('node:child_process');
const { createHmac, randomBytes } = require('node:crypto');
const http = require('node:http');
const path = require('node:path');
const { ROOT, pinnedCommand } = require('./processes.cjs');

const CLI_RUN = path.join(ROOT, 'apps', 'cli', 'bin', 'run.js');
const WEBHOOK_ROUTE = '/api/v1/webhooks/stripe';
const START_TIMEOUT_MS = 60_000;

/** postgres.js from @pay/db's own dependencies, the copy pay's repositories run on. */
function loadPostgres() {
  const dbPackage = path.dirname(require.resolve('@pay/db/package.json'));
  return require(require.resolve('postgres', { paths: [dbPackage] }));
}

/** A signing secret in Stripe's format. */
function newWebhookSecret() {
  return `whsec_bench${randomBytes(16).toString('hex')}`;
}

/** `Stripe-Signature` over the exact bytes sent, at unix time `t` (now): what Stripe sends. */
function signatureHeader(payload, secret, t = Math.floor(Date.now() / 1000)) {
  const v1 = createHmac('sha256', secret).update(`${t}.${payload}`, 'utf8').digest('hex');
  return `t=${t},v1=${v1}`;
}

/** One POST of raw bytes; resolves with the status and body text, rejects on a network error. */
function postRaw(agent, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': body.length } },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Delivers one event as Stripe does: the pretty-printed JSON, signed now with `secret`. */
function deliver(agent, apiUrl, payload, secret) {
  return postRaw(
    agent,
    `${apiUrl}${WEBHOOK_ROUTE}`,
    {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      'stripe-signature': signatureHeader(payload, secret),
    },
    Buffer.from(payload, 'utf8'),
  );
}

/** Runs `task(i)` for i in [0, count) from `concurrency` workers pulling from one counter. */
async function fromWorkers(count, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      await task(next++);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/**
 * `count` payments of new subscribers with pm_card_visa through the API at `concurrency`: each makes
 * at least five events at Stripe (customer, card attached, intent created, charge and intent succeeded).
 */
async function makePayments({ agent, apiUrl, apiKey, planId, count, concurrency }) {
  let failures = 0;
  let firstFailure = null;
  await fromWorkers(count, concurrency, async (n) => {
    const body = JSON.stringify({
      user_id: `bench-webhooks-${process.pid}-${n}`,
      plan_id: planId,
      payment_method_id: 'pm_card_visa',
    });
    const res = await postRaw(
      agent,
      `${apiUrl}/api/v1/payments`,
      {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        'idempotency-key': `bench-webhooks-${process.pid}-${String(n).padStart(8, '0')}`,
      },
      Buffer.from(body, 'utf8'),
    ).catch((err) => ({ status: 0, text: String(err && err.message ? err.message : err) }));
    if (res.status !== 201) {
      failures += 1;
      firstFailure ??= `${res.status}: ${res.text.slice(0, 300)}`;
    }
  });
  if (failures > 0) {
    throw new Error(`${failures} of ${count} payments failed; first: ${firstFailure}`);
  }
}

/** Every event of the key's sandbox account, oldest first (the sandbox lists newest first). */
async function listEvents(sandboxUrl, secretKey) {
  const newestFirst = [];
  let startingAfter = null;
  for (;;) {
    const query = new URLSearchParams({ limit: '100' });
    if (startingAfter !== null) {
      query.set('starting_after', startingAfter);
    }
    const res = await fetch(`${sandboxUrl}/v1/events?${query}`, {
      headers: { authorization: `Bearer ${secretKey}` },
    });
    if (!res.ok) {
      throw new Error(`GET /v1/events answered ${res.status}: ${await res.text()}`);
    }
    const page = await res.json();
    newestFirst.push(...page.data);
    if (!page.has_more || page.data.length === 0) {
      return newestFirst.reverse();
    }
    startingAfter = page.data[page.data.length - 1].id;
  }
}

/** The body Stripe sends for `event`: two-space pretty JSON. */
function payloadOf(event) {
  return JSON.stringify(event, null, 2);
}

/** `pay worker` (the built CLI) with exactly `env`, recovery pushed a day away: only webhooks are measured. */
function startWorker(env) {
  // On BENCH_PIN's `worker` cores when it names them (processes.cjs).
  const { command, args } = pinnedCommand('worker', [
    CLI_RUN,
    'worker',
    '--recovery-interval-ms',
    String(86_400_000),
  ]);
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk) => {
    tail = (tail + chunk.toString()).slice(-16 * 1024);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => tail,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Counts of pay's inbox by status, and the first and last processing time, over one short connection. */
async function inboxFigures(databaseUrl) {
  const postgres = loadPostgres();
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    const counts = await sql`SELECT status, count(*)::int AS n FROM pay.webhook_events GROUP BY status`;
    const [span] = await sql`
      SELECT min(processed_at) AS first, max(processed_at) AS last FROM pay.webhook_events`;
    return {
      counts: Object.fromEntries(counts.map((row) => [row.status, row.n])),
      firstProcessedAt: span.first,
      lastProcessedAt: span.last,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Removes every event from pay's inbox (TRUNCATE: no dead rows left for the next inserts to skip). */
async function emptyInbox(databaseUrl) {
  const postgres = loadPostgres();
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    await sql`TRUNCATE pay.webhook_events`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** A copy of `template` (which nobody may be connected to) as a new database; returns its URL and drop(). */
async function cloneDatabase(adminUrl, template, name) {
  const postgres = loadPostgres();
  const admin = () => postgres(adminUrl, { max: 1, onnotice: () => undefined });
  let sql = admin();
  try {
    await sql.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  } finally {
    await sql.end({ timeout: 5 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropping;
  return {
    url: url.toString(),
    drop: () =>
      (dropping ??= (async () => {
        sql = admin();
        try {
          await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        } finally {
          await sql.end({ timeout: 5 });
        }
      })()),
  };
}

/** Waits until `read()` says done, polling every `everyMs`; throws after `timeoutMs`. */
async function pollUntil(read, done, { everyMs = 100, timeoutMs = START_TIMEOUT_MS * 10, what }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not done within ${timeoutMs} ms; last ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

module.exports = {
  cloneDatabase,
  deliver,
  emptyInbox,
  fromWorkers,
  inboxFigures,
  listEvents,
  makePayments,
  newWebhookSecret,
  payloadOf,
  pollUntil,
  startWorker,
};
