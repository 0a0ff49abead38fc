#!/usr/bin/env node
/*
 * The Stripe sandbox for the latency bench (payments-stripe-latency.cjs), in a process of its own as
 * processes.cjs runs it, with two settings its CLI has no flag for: the latency given as JSON, and a
 * request log long enough for a whole run. The sandbox keeps its newest 10,000 calls by default; J1's
 * 2 minutes at 50 payments/s make 24,000, and a payment whose first calls fell out of the log would be
 * left out of the gateway figures (gateway-time.cjs completePayments), the first minute's above all.
 *
 * Usage: node latency-sandbox.cjs <latency JSON or CLI form> <request log limit>
 * Prints `pay-stripe-sandbox listening on <url>` as the sandbox's CLI does; stops on SIGTERM/SIGINT.
 */
'use strict';

const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const { parseLatency, startSandbox } = require(
  path.join(ROOT, 'packages', 'stripe-sandbox', 'dist', 'index.js'),
);

async function main() {
  const [latencyArg, limitArg] = process.argv.slice(2);
  if (latencyArg === undefined || limitArg === undefined || !/^\d+$/.test(limitArg)) {
    throw new Error('usage: latency-sandbox.cjs <latency spec> <request log limit>');
  }
  // The CLI's own form (`lognormal:median=300,sigma=0.69,seed=42`), so the bench and the sandbox's
  // --latency flag take the same text.
  const latency = parseLatency(latencyArg);
  const sandbox = await startSandbox({
    port: 0,
    host: '127.0.0.1',
    clock: 'real',
    latency,
    requestLogLimit: Number(limitArg),
  });
  process.stdout.write(`pay-stripe-sandbox listening on ${sandbox.url}\n`);
  const stop = () => {
    sandbox.stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`latency-sandbox: error while stopping: ${err}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`latency-sandbox: ${err && err.stack ? err.stack : err}\n`);
  process.exit(2);
});
