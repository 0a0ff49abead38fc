/*
 * What every benchmark script sets up the same way: its numeric settings from the environment, the
 * sandbox's control plane, the API's /metrics, and the pay account the load runs as.
 */
'use strict';

/** A number from `process.env[name]`, or `fallback` when unset; throws a clear error for a bad one. */
function numberFromEnv(name, fallback, { min, integer }) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got "${raw}"`);
  }
  return value;
}

/** A call to the sandbox's control plane (`/_sandbox/<route>`): its JSON, or an error naming the route. */
async function controlPlane(sandboxUrl, method, route) {
  const res = await fetch(`${sandboxUrl}/_sandbox/${route}`, { method });
  if (!res.ok) {
    throw new Error(`${method} /_sandbox/${route} answered ${res.status}: ${await res.text()}`);
  }
  return res.json();
}

/** The API's /metrics (no key needed). Scraping also resets prom-client's event-loop delay histogram. */
async function scrapeMetrics(apiUrl) {
  const res = await fetch(`${apiUrl}/metrics`);
  if (!res.ok) {
    throw new Error(`GET /metrics answered ${res.status}`);
  }
  return res.text();
}

/**
 * An account, a service key and a monthly plan, through the same services the CLI calls; the API the
 * bench starts must use the same `stripeKey` (the sandbox keeps one account per key).
 */
async function seedAccount(databaseUrl, sandboxUrl, { stripeKey = 'sk_test_bench', name = 'bench' } = {}) {
  const { createPay, loadConfig } = require('@pay/runtime');
  const { silentLogger } = require('@pay/core');
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    STRIPE_SECRET_KEY: stripeKey,
    STRIPE_API_BASE: sandboxUrl,
  });
  const pay = await createPay(config, { logger: silentLogger, role: 'cli' });
  try {
    const actor = { type: 'cli_operator', id: 'bench' };
    const account = await pay.services.accounts.createAccount(name, actor);
    const { secret } = await pay.services.accounts.createApiKey(
      { accountId: account.id, name: 'bench', role: 'service' },
      actor,
    );
    const plan = await pay.services.plans.createPlan(
      { accountId: account.id, name: 'Bench monthly', amount: 1500, currency: 'usd', interval: 'month' },
      actor,
    );
    return { apiKey: secret, planId: plan.id };
  } finally {
    await pay.close();
  }
}

module.exports = { controlPlane, numberFromEnv, scrapeMetrics, seedAccount };
