/*
 * The load generator: `concurrency` workers, each sending POST /api/v1/payments back to back until the
 * deadline, as a client with a keep-alive pool would. node:http rather than fetch, because undici's
 * per-request CPU cost is several times larger and the generator shares the machine's cores with
 * everything it measures.
 */
'use strict';

const http = require('node:http');

/** One POST with a JSON body; resolves with the status, the `Idempotent-Replayed` header and the raw body text. */
function postJson(agent, url, headers, body) {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            replayed: res.headers['idempotent-replayed'] === 'true',
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A keep-alive pool large enough for `concurrency` requests in flight at once. */
function createAgent(concurrency) {
  return new http.Agent({ keepAlive: true, maxSockets: concurrency });
}

/**
 * Takes payments at `concurrency` for `seconds`. Every request has a fresh Idempotency-Key and a fresh
 * user_id, so each is a new subscriber's first payment: pay creates the customer, attaches the card,
 * creates and confirms the intent. Resolves with each succeeded payment's id and latency (ms, measured
 * with process.hrtime.bigint around the whole request), its key, body and answer (for driveReplays),
 * the failures by status, and the first failure.
 * `shouldStop()` true ends the workers early (Ctrl-C).
 */
async function drivePayments({ agent, apiUrl, apiKey, planId, concurrency, seconds, label, shouldStop }) {
  const url = `${apiUrl}/api/v1/payments`;
  const headers = { authorization: `Bearer ${apiKey}` };
  const samples = [];
  const failures = {};
  let firstFailure = null;
  let seq = 0;
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const fail = (kind, detail) => {
    failures[kind] = (failures[kind] ?? 0) + 1;
    firstFailure ??= `${kind}: ${detail}`;
  };
  async function worker() {
    while (process.hrtime.bigint() < deadline && !shouldStop()) {
      const n = seq++;
      // 20–255 printable characters (RELIABILITY A3), unique across runs of this process and others.
      const key = `bench-${label}-${process.pid}-${String(n).padStart(8, '0')}`;
      const body = {
        user_id: `bench-user-${label}-${process.pid}-${n}`,
        plan_id: planId,
        payment_method_id: 'pm_card_visa',
      };
      const started = process.hrtime.bigint();
      let res;
      try {
        res = await postJson(agent, url, { ...headers, 'idempotency-key': key }, body);
      } catch (err) {
        fail('network', err && err.message ? err.message : String(err));
        continue;
      }
      const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
      let payment = null;
      try {
        payment = JSON.parse(res.text);
      } catch {
        // Counted below as a failure with the raw text.
      }
      if (res.status === 201 && payment !== null && payment.status === 'succeeded') {
        samples.push({ paymentId: payment.id, latencyMs, key, body, text: res.text });
      } else {
        fail(String(res.status), res.text.slice(0, 500));
      }
    }
  }
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { elapsedMs: Number(process.hrtime.bigint() - started) / 1e6, samples, failures, firstFailure };
}

/**
 * Replays answered payments at `concurrency` for `seconds`: each request re-sends one of `answered`
 * (drivePayments' samples, taken in turn, round and round) with its own Idempotency-Key and body. A
 * replay counts only when it is one: 201, `Idempotent-Replayed: true`, and the very bytes of the first
 * answer; anything else is a failure by kind (`not_replayed`, `body_differs`, the status, `network`).
 * Resolves with the latencies of the good replays (ms), the failures and the first failure.
 */
async function driveReplays({ agent, apiUrl, apiKey, answered, concurrency, seconds, shouldStop }) {
  const url = `${apiUrl}/api/v1/payments`;
  const latencies = [];
  const failures = {};
  let firstFailure = null;
  let seq = 0;
  const fail = (kind, detail) => {
    failures[kind] = (failures[kind] ?? 0) + 1;
    firstFailure ??= `${kind}: ${detail}`;
  };
  const started = process.hrtime.bigint();
  if (answered.length === 0) {
    return { elapsedMs: 0, latencies, failures, firstFailure: 'no answered payment to replay' };
  }
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  async function worker() {
    while (process.hrtime.bigint() < deadline && !shouldStop()) {
      const original = answered[seq++ % answered.length];
      const sent = process.hrtime.bigint();
      let res;
      try {
        res = await postJson(
          agent,
          url,
          { authorization: `Bearer ${apiKey}`, 'idempotency-key': original.key },
          original.body,
        );
      } catch (err) {
        fail('network', err && err.message ? err.message : String(err));
        continue;
      }
      const latencyMs = Number(process.hrtime.bigint() - sent) / 1e6;
      if (res.status !== 201) {
        fail(String(res.status), res.text.slice(0, 500));
      } else if (!res.replayed) {
        fail('not_replayed', `${original.key} answered without Idempotent-Replayed: true`);
      } else if (res.text !== original.text) {
        fail('body_differs', `${original.key}: ${res.text.slice(0, 200)} ≠ ${original.text.slice(0, 200)}`);
      } else {
        latencies.push(latencyMs);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { elapsedMs: Number(process.hrtime.bigint() - started) / 1e6, latencies, failures, firstFailure };
}

module.exports = { createAgent, drivePayments, driveReplays };
