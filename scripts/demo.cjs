#!/usr/bin/env node
/*
 * `pnpm demo`: the seed's five validation scenarios against a freshly started embedded service. Builds
 * the API quietly (output only when the build fails), starts `node apps/api/dist/main.js` on a new
 * temporary data folder and a free port, reads the demo service key and plan from its start banner,
 * runs each scenario over HTTP as a client would and prints one line for each, then stops the service
 * and removes the folder. Exits 0 only when every available scenario passed (and the service stopped
 * cleanly). `--no-build` skips the build (the process test runs on the dist/ its test run built).
 *
 * Results go to stdout; progress and diagnostics to stderr.
 */
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const MAIN = path.join(ROOT, 'apps/api/dist/main.js');
const CLI = path.join(ROOT, 'apps/cli/bin/run.js');
const CHROMIUM = process.env.PAY_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
// The shop the 3-D Secure card holder returns to. It is never loaded: the demo reads the redirect.
const SHOP_ORIGIN = 'https://shop.example';
const RETURN_URL = `${SHOP_ORIGIN}/demo/done?order=demo-3ds`;
// A cold start compiles PGlite's WASM and runs initdb: seconds on a laptop, more on a busy CI machine.
const START_TIMEOUT_MS = 120_000;
const REQUEST_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;
// How long the webhook scenario waits for Stripe's events to reach pay and be handled: a hang guard.
const WEBHOOK_TIMEOUT_MS = 60_000;

const MARK = { passed: '✓', failed: '✗', skipped: '○' };

function log(message) {
  process.stderr.write(`[demo] ${message}\n`);
}

/** The same quiet build as `pnpm pay`: a cached no-op when nothing changed. */
function build() {
  const result = spawnSync(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', '--filter=@pay/api...', '--output-logs=errors-only'],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
  );
  if (result.error) {
    throw result.error;
  }
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    throw new Error('the build failed (see above)');
  }
}

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

/**
 * The environment of the service and of the CLI run beside it: only PATH, HOME and TMPDIR of this
 * environment go along, so a DATABASE_URL or STRIPE_SECRET_KEY set in the caller's shell never points
 * the demo elsewhere.
 */
function embeddedEnv(dataDir) {
  return {
    PATH: process.env.PATH || '',
    HOME: process.env.HOME || os.homedir(),
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    PAY_DATA_DIR: dataDir,
    PAY_LOG_LEVEL: 'warn',
  };
}

/** Starts the service on the embedded default. */
function startService(dataDir, port) {
  const env = { ...embeddedEnv(dataDir), PORT: String(port), PAY_RETURN_URL_ORIGINS: SHOP_ORIGIN };
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const service = { child, stdout: '', stderr: '', exitCode: undefined };
  child.stdout.on('data', (chunk) => (service.stdout += chunk.toString()));
  child.stderr.on('data', (chunk) => (service.stderr += chunk.toString()));
  service.exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      service.exitCode = code === null ? signal : code;
      resolve(service.exitCode);
    }),
  );
  return service;
}

/** What the first start's banner says: where pay and its sandbox listen, the service key, the demo plan. */
function parseBanner(stdout) {
  const listening =
    /^pay listening on (http:\/\/\S+) — mode: (.+?) — .* — stripe: sandbox at (http:\/\/\S+)$/m.exec(stdout);
  const serviceKey = /^\s+service:\s+(\S+)$/m.exec(stdout);
  const adminKey = /^\s+admin:\s+(\S+)$/m.exec(stdout);
  const planId = /"plan_id":"(pln_[A-Za-z0-9_]+)"/.exec(stdout);
  if (listening === null || serviceKey === null || adminKey === null || planId === null) {
    return null;
  }
  return {
    api: listening[1],
    mode: listening[2],
    sandbox: listening[3],
    serviceKey: serviceKey[1],
    adminKey: adminKey[1],
    planId: planId[1],
  };
}

async function waitForBanner(service) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const banner = parseBanner(service.stdout);
    if (banner !== null) {
      return banner;
    }
    if (service.exitCode !== undefined || Date.now() > deadline) {
      throw new Error(
        service.exitCode !== undefined
          ? `the service exited (${service.exitCode}) before printing its keys`
          : `no start banner with the demo keys after ${START_TIMEOUT_MS / 1000} s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopService(service) {
  if (service.exitCode !== undefined) {
    return service.exitCode;
  }
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  const code = await service.exited;
  clearTimeout(timer);
  return code;
}

/** One JSON call to pay's API with the demo service key (or `key`: the admin key for refunds). */
async function api(ctx, method, route, body, key = ctx.serviceKey) {
  const headers = { Authorization: `Bearer ${key}` };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    // 20 to 255 printable characters; a fresh one per payment, so no call replays another.
    headers['Idempotency-Key'] = `demo-${randomUUID()}`;
  }
  const res = await fetch(`${ctx.api}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { unparsed: text };
  }
  return { status: res.status, body: json };
}

function createPayment(ctx, paymentMethodId, returnUrl) {
  return api(ctx, 'POST', '/api/v1/payments', {
    user_id: `demo-user-${randomUUID().slice(0, 8)}`,
    plan_id: ctx.planId,
    payment_method_id: paymentMethodId,
    ...(returnUrl === undefined ? {} : { return_url: returnUrl }),
  });
}

class ScenarioFailure extends Error {}

function expectThat(condition, message, response) {
  if (!condition) {
    throw new ScenarioFailure(response === undefined ? message : `${message}; got ${describe(response)}`);
  }
}

function describe(response) {
  const text = JSON.stringify(response.body);
  return `${response.status} ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`;
}

/** The payment as pay reports it now: the create answer is not the only word. */
async function expectStored(ctx, id, status) {
  const got = await api(ctx, 'GET', `/api/v1/payments/${encodeURIComponent(id)}`);
  expectThat(
    got.status === 200 && got.body.status === status,
    `GET /api/v1/payments/${id} should say ${status}`,
    got,
  );
}

async function successfulPayment(ctx) {
  const res = await createPayment(ctx, 'pm_card_visa');
  expectThat(res.status === 201 && res.body.status === 'succeeded', 'expected 201 succeeded', res);
  await expectStored(ctx, res.body.id, 'succeeded');
  ctx.succeededPaymentId = res.body.id;
  return `succeeded: ${res.body.id}, ${res.body.amount} ${res.body.currency} (minor units)`;
}

async function declinedPayment(ctx) {
  const res = await createPayment(ctx, 'pm_card_chargeDeclinedInsufficientFunds');
  const failure = res.body.failure || {};
  expectThat(
    res.status === 402 && res.body.status === 'failed' && failure.decline_code === 'insufficient_funds',
    'expected 402, a failed payment, decline insufficient_funds',
    res,
  );
  await expectStored(ctx, res.body.id, 'failed');
  return `402 insufficient_funds: ${res.body.id} failed, nothing charged`;
}

/** playwright-core, a dev dependency of the API's tests; null when it is not installed. */
function loadPlaywright() {
  try {
    return require(require.resolve('playwright-core', { paths: [path.join(ROOT, 'apps/api')] }));
  } catch {
    return null;
  }
}

/** The card holder's side in Chromium: the challenge page, "Complete", then the redirects to the shop. */
async function completeInChromium(playwright, redirectUrl, paymentId) {
  const browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    // The shop is the last hop of a redirect chain, which page.route never sees: block it in Chromium's
    // network layer, so its page is asked for and never loaded.
    const cdp = await page.context().newCDPSession(page);
    cdp.on('Fetch.requestPaused', (event) => {
      cdp
        .send('Fetch.failRequest', { requestId: event.requestId, errorReason: 'BlockedByClient' })
        .catch(() => {});
    });
    await cdp.send('Fetch.enable', {
      patterns: [{ urlPattern: `${SHOP_ORIGIN}/*`, requestStage: 'Request' }],
    });
    await page.goto(redirectUrl, { timeout: REQUEST_TIMEOUT_MS });
    const [shopRequest] = await Promise.all([
      page.waitForRequest((request) => request.url().startsWith(SHOP_ORIGIN), {
        timeout: REQUEST_TIMEOUT_MS,
      }),
      page.click('#complete-authentication', { timeout: REQUEST_TIMEOUT_MS }),
    ]);
    const payHop = shopRequest.redirectedFrom();
    expectThat(
      payHop !== null && payHop.url().includes(`/api/v1/payments/${paymentId}/return`),
      `the browser should come back to the shop through pay's return route, came from ${payHop && payHop.url()}`,
    );
    return { returnedTo: shopRequest.url(), via: payHop.url() };
  } finally {
    await browser.close();
  }
}

/**
 * Without a browser: the sandbox's control plane answers the challenge (what Stripe's hosted page would
 * do), then pay's return route is called as the browser would be sent there.
 */
async function completeThroughControlPlane(ctx, redirectUrl, paymentId) {
  const intent = /\/_sandbox\/3ds\/(pi_[A-Za-z0-9_]+)/.exec(new URL(redirectUrl).pathname);
  expectThat(intent !== null, `the redirect URL should be the sandbox's challenge page, got ${redirectUrl}`);
  const answer = await fetch(`${ctx.sandbox}/_sandbox/payment_intents/${intent[1]}/authenticate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ outcome: 'succeed' }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  expectThat(answer.ok, `the sandbox refused to authenticate: ${answer.status} ${await answer.text()}`);
  const via = `${ctx.api}/api/v1/payments/${encodeURIComponent(paymentId)}/return`;
  const back = await fetch(via, { redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  expectThat(
    back.status === 303 && back.headers.get('location') !== null,
    `pay's return route should redirect (303), got ${back.status}`,
  );
  return { returnedTo: back.headers.get('location'), via };
}

async function threeDSecure(ctx) {
  const res = await createPayment(ctx, 'pm_card_threeDSecure2Required', RETURN_URL);
  const redirectUrl = res.body.next_action && res.body.next_action.redirect_url;
  expectThat(
    res.status === 201 && res.body.status === 'requires_action' && typeof redirectUrl === 'string',
    'expected 201 requires_action with next_action.redirect_url',
    res,
  );
  const playwright = fs.existsSync(CHROMIUM) ? loadPlaywright() : null;
  let how;
  let landed;
  if (playwright !== null) {
    how = 'challenge completed on the sandbox page in Chromium';
    landed = await completeInChromium(playwright, redirectUrl, res.body.id);
  } else {
    const why = fs.existsSync(CHROMIUM) ? 'playwright-core is not installed' : `no Chromium at ${CHROMIUM}`;
    how = `challenge completed through the sandbox's control plane (${why})`;
    landed = await completeThroughControlPlane(ctx, redirectUrl, res.body.id);
  }
  const returned = new URL(landed.returnedTo);
  expectThat(
    returned.href.startsWith(`${SHOP_ORIGIN}/demo/done?`) &&
      returned.searchParams.get('order') === 'demo-3ds' &&
      returned.searchParams.get('payment_id') === res.body.id &&
      returned.searchParams.get('status') === 'succeeded',
    `expected a redirect to ${RETURN_URL} with payment_id=${res.body.id}&status=succeeded, got ${returned.href}`,
  );
  await expectStored(ctx, res.body.id, 'succeeded');
  return `succeeded: ${res.body.id}, ${how}, redirected to ${returned.href}`;
}

/** `pay <args> --json` against the running demo service (the CLI reaches it through its data folder). */
function payCli(ctx, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, '--json'], {
      cwd: ROOT,
      env: embeddedEnv(ctx.dataDir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), REQUEST_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The embedded sandbox's own key, from @pay/runtime: its events are listed with it. */
function embeddedSandboxKey() {
  return require(require.resolve('@pay/runtime', { paths: [path.join(ROOT, 'apps/api')] }))
    .SANDBOX_SECRET_KEY;
}

async function sandboxGet(ctx, route, key) {
  const res = await fetch(`${ctx.sandbox}${route}`, {
    headers: key === undefined ? {} : { Authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  expectThat(res.ok, `GET ${route} at the sandbox answered ${res.status}`);
  return res.json();
}

/** The payment's `payment_intent.succeeded` and `charge.succeeded` events at Stripe (the sandbox). */
async function eventsOfPayment(ctx, paymentId) {
  const key = embeddedSandboxKey();
  const query = 'limit=100&types[0]=payment_intent.succeeded&types[1]=charge.succeeded';
  const { data } = await sandboxGet(ctx, `/v1/events?${query}`, key);
  const intent = data.find(
    (e) =>
      e.type === 'payment_intent.succeeded' && (e.data.object.metadata || {}).pay_payment_id === paymentId,
  );
  expectThat(intent !== undefined, `the sandbox has no payment_intent.succeeded event for ${paymentId}`);
  const charge = data.find(
    (e) => e.type === 'charge.succeeded' && e.data.object.payment_intent === intent.data.object.id,
  );
  expectThat(charge !== undefined, `the sandbox has no charge.succeeded event for ${intent.data.object.id}`);
  return [intent, charge];
}

/**
 * After the successful payment: Stripe (the embedded sandbox, at the endpoint the service registered
 * for itself) delivers its `payment_intent.succeeded` and `charge.succeeded`; pay verifies and stores
 * each (the 2xx in the sandbox's delivery log says so), and its in-process worker handles them:
 * `pay webhook-status --json` on the demo's data folder shows nothing pending, failed or dead.
 */
async function webhookProcessing(ctx) {
  let paymentId = ctx.succeededPaymentId;
  if (paymentId === undefined) {
    const res = await createPayment(ctx, 'pm_card_visa');
    expectThat(res.status === 201 && res.body.status === 'succeeded', 'expected 201 succeeded', res);
    paymentId = res.body.id;
  }
  const events = await eventsOfPayment(ctx, paymentId);
  const deadline = Date.now() + WEBHOOK_TIMEOUT_MS;
  let last = 'nothing yet';
  for (;;) {
    const delivered = [];
    for (const event of events) {
      const log = await sandboxGet(
        ctx,
        `/_sandbox/webhooks/deliveries?event=${encodeURIComponent(event.id)}`,
      );
      delivered.push(log.data.some((attempt) => attempt.succeeded));
    }
    const status = await payCli(ctx, ['webhook-status']);
    let view;
    try {
      view = JSON.parse(status.stdout);
    } catch {
      throw new ScenarioFailure(
        `pay webhook-status --json printed no JSON (exit ${status.code}): ${status.stderr.trim()}`,
      );
    }
    const c = view.counts;
    last = `delivered ${delivered.filter(Boolean).length} of ${events.length}; inbox ${JSON.stringify(c)}`;
    if (delivered.every(Boolean) && c.pending === 0 && c.failed === 0) {
      expectThat(c.dead === 0, `webhook events are dead: ${JSON.stringify(c)}`);
      return (
        `${events.map((e) => e.type).join(' and ')} of ${paymentId} delivered, verified and handled; ` +
        `inbox: ${c.processed} processed, ${c.ignored} ignored, 0 pending, 0 failed, 0 dead`
      );
    }
    if (Date.now() > deadline) {
      throw new ScenarioFailure(`the events were not handled within ${WEBHOOK_TIMEOUT_MS / 1000} s: ${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * An admin refunds the successful payment in two parts: a partial refund (the payment is
 * `partially_refunded`), then the rest (`refunded`); a third refund finds nothing left (422) and a
 * service key may not refund at all (403). Stripe (the sandbox) holds the same total on the charge.
 */
async function refund(ctx) {
  let paymentId = ctx.succeededPaymentId;
  if (paymentId === undefined) {
    const res = await createPayment(ctx, 'pm_card_visa');
    expectThat(res.status === 201 && res.body.status === 'succeeded', 'expected 201 succeeded', res);
    paymentId = res.body.id;
  }
  const payment = await api(ctx, 'GET', `/api/v1/payments/${encodeURIComponent(paymentId)}`);
  const amount = payment.body.amount;
  const part = Math.floor(amount / 3);
  const denied = await api(ctx, 'POST', '/api/v1/refunds', { payment_id: paymentId, amount: part });
  expectThat(denied.status === 403, 'a service key must not refund (403)', denied);
  const first = await api(
    ctx,
    'POST',
    '/api/v1/refunds',
    { payment_id: paymentId, amount: part, reason: 'requested_by_customer' },
    ctx.adminKey,
  );
  expectThat(first.status === 201 && first.body.status === 'succeeded', 'expected 201 succeeded', first);
  await expectStored(ctx, paymentId, 'partially_refunded');
  const rest = await api(ctx, 'POST', '/api/v1/refunds', { payment_id: paymentId }, ctx.adminKey);
  expectThat(
    rest.status === 201 && rest.body.status === 'succeeded' && rest.body.amount === amount - part,
    `expected the remaining ${amount - part} refunded`,
    rest,
  );
  await expectStored(ctx, paymentId, 'refunded');
  const more = await api(ctx, 'POST', '/api/v1/refunds', { payment_id: paymentId, amount: 1 }, ctx.adminKey);
  expectThat(
    more.status === 422 && more.body.error?.code === 'refund_exceeds_captured',
    'a refund past the captured amount must be 422 refund_exceeds_captured',
    more,
  );
  const { data } = await sandboxGet(ctx, '/v1/refunds?limit=100', embeddedSandboxKey());
  const atStripe = data
    .filter((r) => (r.metadata || {}).pay_payment_id === paymentId && r.status === 'succeeded')
    .reduce((sum, r) => sum + r.amount, 0);
  expectThat(atStripe === amount, `Stripe should hold ${amount} refunded, holds ${atStripe}`);
  return (
    `${paymentId}: ${part} then ${amount - part} refunded by the admin key (partially_refunded → refunded), ` +
    `a further refund 422, a service key 403; Stripe holds ${atStripe} refunded`
  );
}

const SCENARIOS = [
  { name: 'successful payment (pm_card_visa)', run: successfulPayment },
  { name: 'declined payment (pm_card_chargeDeclinedInsufficientFunds)', run: declinedPayment },
  { name: '3-D Secure (pm_card_threeDSecure2Required)', run: threeDSecure },
  { name: 'webhook processing', run: webhookProcessing },
  { name: 'refund', run: refund },
];

async function runScenarios(ctx) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const [index, scenario] of SCENARIOS.entries()) {
    let outcome;
    let detail;
    if (scenario.unavailable !== undefined) {
      outcome = 'skipped';
      detail = `skipped — ${scenario.unavailable}`;
    } else {
      try {
        detail = await scenario.run(ctx);
        outcome = 'passed';
      } catch (error) {
        outcome = 'failed';
        detail = error instanceof ScenarioFailure ? error.message : `error: ${error.stack || error}`;
      }
    }
    counts[outcome] += 1;
    process.stdout.write(`${MARK[outcome]} ${index + 1}. ${scenario.name}: ${detail}\n`);
  }
  return counts;
}

async function main() {
  if (!process.argv.includes('--no-build')) {
    log('building the API (quiet unless it fails)');
    build();
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pay-demo-'));
  let service;
  let cleaning;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      const code = service === undefined ? 0 : await stopService(service);
      fs.rmSync(dataDir, { recursive: true, force: true });
      return code;
    })());
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      cleanUp().finally(() => process.exit(130));
    });
  }
  let counts;
  try {
    const port = await freePort();
    log(`starting the embedded service on port ${port} with data in ${dataDir}`);
    service = startService(dataDir, port);
    const banner = await waitForBanner(service);
    process.stdout.write(
      `pay demo: a fresh embedded service at ${banner.api} (mode: ${banner.mode}), data in ${dataDir}\n`,
    );
    counts = await runScenarios({
      ...banner,
      api: banner.api.replace('//localhost:', '//127.0.0.1:'),
      dataDir,
    });
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    counts = undefined;
  }
  const stopped = await cleanUp();
  if (stopped !== 0) {
    log(`the service did not stop cleanly (exit ${stopped})`);
  }
  if (counts === undefined || stopped !== 0) {
    if (service !== undefined) {
      process.stderr.write(
        `--- service stdout ---\n${service.stdout}--- service stderr ---\n${service.stderr}`,
      );
    }
    return 1;
  }
  const available = counts.passed + counts.failed;
  process.stdout.write(
    `pay demo: ${counts.passed} of ${available} available scenarios passed, ${counts.skipped} not yet available\n`,
  );
  if (counts.failed > 0 && service !== undefined && service.stderr !== '') {
    process.stderr.write(`--- service stderr ---\n${service.stderr}`);
  }
  return counts.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    log(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
