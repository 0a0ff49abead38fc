import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/*
 * `pnpm demo` as a user runs it (`node scripts/demo.cjs`), on the dist/ this test run built: it starts
 * a fresh embedded service, runs the five scenarios (the webhook one through the sandbox's delivery log
 * and `pay webhook-status` on the demo's data folder), prints one line each, stops the service and
 * removes its data folder. Once with Chromium for the 3-D Secure challenge, when it is installed (CI
 * installs it), and once without, where the sandbox's control plane answers the challenge instead.
 */

const ROOT = path.resolve(__dirname, '../../..');
const DEMO = path.join(ROOT, 'scripts/demo.cjs');
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
// Two cold PGlite starts plus a browser on a busy two-core machine: a generous hang guard, not a target.
const RUN_TIMEOUT_MS = 240_000;

interface DemoRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node scripts/demo.cjs --no-build` with a clean environment plus `env`. */
function runDemo(env: Record<string, string> = {}): Promise<DemoRun> {
  const child = spawn(process.execPath, [DEMO, '--no-build'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** The data folder the demo announced; it must be gone once the demo is done. */
function dataDirOf(stdout: string): string {
  const match =
    /^pay demo: a fresh embedded service at http:\/\/localhost:\d+ \(mode: embedded \(SANDBOX\)\), data in (\S+)$/m.exec(
      stdout,
    );
  if (match?.[1] === undefined) {
    throw new Error(`no header line in:\n${stdout}`);
  }
  return match[1];
}

/** Where the service listened: nothing may answer there once the demo is done. */
function addressOf(stdout: string): string {
  const match = /embedded service at (http:\/\/localhost:\d+)/.exec(stdout);
  return (match?.[1] ?? '').replace('//localhost:', '//127.0.0.1:');
}

function expectCommonLines(run: DemoRun): string[] {
  const lines = run.stdout.trimEnd().split('\n');
  expect(lines).toHaveLength(7);
  expect(lines[1]).toMatch(
    /^✓ 1\. successful payment \(pm_card_visa\): succeeded: pay_\w+, 1500 usd \(minor units\)$/,
  );
  expect(lines[2]).toMatch(
    /^✓ 2\. declined payment \(pm_card_chargeDeclinedInsufficientFunds\): 402 insufficient_funds: pay_\w+ failed, nothing charged$/,
  );
  // Scenario 1's payment: Stripe's two events for it reached pay, were verified, stored and handled by
  // the embedded service's own worker, with nothing configured.
  const paymentId = /succeeded: (pay_\w+),/.exec(lines[1] ?? '')?.[1];
  expect(lines[4]).toMatch(
    /^✓ 4\. webhook processing: payment_intent\.succeeded and charge\.succeeded of (pay_\w+) delivered, verified and handled; inbox: \d+ processed, \d+ ignored, 0 pending, 0 failed, 0 dead$/,
  );
  expect(lines[4]).toContain(` of ${paymentId ?? '(none)'} delivered`);
  // Scenario 1's payment again: refunded in two parts by the admin key, at pay and at Stripe.
  expect(lines[5]).toMatch(
    /^✓ 5\. refund: (pay_\w+): 500 then 1000 refunded by the admin key \(partially_refunded → refunded\), a further refund 422, a service key 403; Stripe holds 1500 refunded$/,
  );
  expect(lines[5]).toContain(`${paymentId ?? '(none)'}: `);
  expect(lines[6]).toBe('pay demo: 5 of 5 available scenarios passed, 0 not yet available');
  return lines;
}

async function expectCleanedUp(run: DemoRun): Promise<void> {
  expect(fs.existsSync(dataDirOf(run.stdout))).toBe(false);
  await expect(fetch(`${addressOf(run.stdout)}/readyz`)).rejects.toThrow();
}

describe('pnpm demo (node scripts/demo.cjs)', () => {
  (haveChromium || process.env.CI === 'true' ? it : it.skip)(
    'runs the five scenarios against a fresh embedded service, 3-D Secure in Chromium, and exits 0',
    async () => {
      const run = await runDemo();
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      const lines = expectCommonLines(run);
      expect(lines[3]).toMatch(
        /^✓ 3\. 3-D Secure \(pm_card_threeDSecure2Required\): succeeded: (pay_\w+), challenge completed on the sandbox page in Chromium, redirected to https:\/\/shop\.example\/demo\/done\?order=demo-3ds&\S*payment_id=\1\S*$/,
      );
      expect(lines[3]).toContain('status=succeeded');
      await expectCleanedUp(run);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'answers the 3-D Secure challenge through the sandbox control plane when there is no Chromium, and says so',
    async () => {
      const run = await runDemo({ PAY_CHROMIUM: '/nonexistent/chromium' });
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      const lines = expectCommonLines(run);
      expect(lines[3]).toMatch(
        /^✓ 3\. 3-D Secure \(pm_card_threeDSecure2Required\): succeeded: (pay_\w+), challenge completed through the sandbox's control plane \(no Chromium at \/nonexistent\/chromium\), redirected to https:\/\/shop\.example\/demo\/done\?order=demo-3ds&\S*payment_id=\1\S*$/,
      );
      expect(lines[3]).toContain('status=succeeded');
      await expectCleanedUp(run);
    },
    RUN_TIMEOUT_MS,
  );
});
