/*
 * How much of a payment's latency was the gateway's, two ways:
 *
 * - per payment, from the sandbox's request log (`GET /_sandbox/requests`, each call's `durationMs`):
 *   the calls pay made for one payment are found by the ids they share, and their times summed. This
 *   is the sandbox's own time answering, so "pay's added latency" (total − this) includes pay's HTTP
 *   client and the loopback network: all of it is latency pay adds on top of Stripe's answer.
 * - on average, from pay's own histogram `pay_gateway_call_duration_seconds` on /metrics (delta of its
 *   sum over the run / payments): the gateway as pay's client sees it, network and SDK included.
 */
'use strict';

/*
 * Ids that tie one payment's calls together. pay's payment and customer ids travel in idempotency keys
 * and metadata; the sandbox's customer, intent and payment-method ids in params and paths. Test tokens
 * such as `pm_card_visa` are shared by every payment and are not ids (too short a tail to match).
 */
const ID_PATTERN =
  /(?<![A-Za-z0-9])(?:(?:pay|cust)_[0-9a-hjkmnp-tv-z]{26}|(?:cus|pi|pm|ch)_[A-Za-z0-9]{12,})(?![A-Za-z0-9])/g;
const PAYMENT_ID = /^pay_/;

/** Union-find over strings, enough for a few tens of thousands of calls. */
function createGroups() {
  const parent = new Map();
  const find = (x) => {
    let root = x;
    while (parent.has(root) && parent.get(root) !== root) {
      root = parent.get(root);
    }
    // Path compression: later finds on this chain are O(1).
    let node = x;
    while (node !== root) {
      const next = parent.get(node);
      parent.set(node, root);
      node = next;
    }
    return root;
  };
  const union = (a, b) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) {
      parent.set(ra, rb);
    }
  };
  return { find, union };
}

/**
 * Groups the logged calls by payment and sums each payment's gateway time. `requests` are the
 * sandbox's log entries, `objects` its ledger (which call created which object: the only link between
 * a customer-creating call and the `cus_` id later calls use). A group that names no payment, or more
 * than one, is counted and left out.
 *
 * @returns `{ byPayment: Map<paymentId, { ms, calls }>, unattributedCalls, ambiguousGroups }`
 */
function gatewayTimeByPayment(requests, objects) {
  const groups = createGroups();
  const callNode = (requestId) => `call:${requestId}`;
  const idNode = (id) => `id:${id}`;
  const idsSeen = new Set();
  for (const entry of requests) {
    const text = `${entry.idempotencyKey ?? ''} ${entry.path} ${JSON.stringify(entry.params ?? null)}`;
    groups.find(callNode(entry.requestId));
    for (const [id] of text.matchAll(ID_PATTERN)) {
      idsSeen.add(id);
      groups.union(callNode(entry.requestId), idNode(id));
    }
  }
  for (const object of objects) {
    if (object.requestId !== null && object.requestId !== undefined) {
      idsSeen.add(object.id);
      groups.union(callNode(object.requestId), idNode(object.id));
    }
  }
  const paymentsOfGroup = new Map();
  for (const id of idsSeen) {
    if (PAYMENT_ID.test(id)) {
      const root = groups.find(idNode(id));
      paymentsOfGroup.set(root, [...(paymentsOfGroup.get(root) ?? []), id]);
    }
  }
  const byPayment = new Map();
  let unattributedCalls = 0;
  const ambiguous = new Set();
  for (const entry of requests) {
    const root = groups.find(callNode(entry.requestId));
    const payments = paymentsOfGroup.get(root) ?? [];
    if (payments.length !== 1) {
      if (payments.length === 0) {
        unattributedCalls += 1;
      } else {
        ambiguous.add(root);
      }
      continue;
    }
    const sum = byPayment.get(payments[0]) ?? { ms: 0, calls: 0 };
    sum.ms += entry.durationMs;
    sum.calls += 1;
    byPayment.set(payments[0], sum);
  }
  return { byPayment, unattributedCalls, ambiguousGroups: ambiguous.size };
}

/** The most common value of an array of integers (null when empty). */
function mode(values) {
  const counts = new Map();
  for (const v of values) {
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  let best = null;
  for (const [value, count] of counts) {
    if (best === null || count > counts.get(best)) {
      best = value;
    }
  }
  return best;
}

/**
 * The payments whose every call is in the log. The sandbox keeps only its newest 10,000 calls, so a
 * long run loses the first calls of its first payments: those show fewer calls than the usual number
 * and are left out rather than counted as fast.
 */
function completePayments(byPayment) {
  const usual = mode([...byPayment.values()].map((sum) => sum.calls));
  const complete = new Map();
  for (const [id, sum] of byPayment) {
    if (sum.calls >= usual) {
      complete.set(id, sum);
    }
  }
  return { complete, callsPerPayment: usual };
}

/** Sum and count of `pay_gateway_call_duration_seconds` over every call and outcome; null if absent. */
function parseGatewayHistogram(metricsText) {
  let sum = 0;
  let count = 0;
  let found = false;
  for (const line of metricsText.split('\n')) {
    const match = /^pay_gateway_call_duration_seconds_(sum|count)(?:\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (match) {
      found = true;
      if (match[1] === 'sum') {
        sum += Number(match[2]);
      } else {
        count += Number(match[2]);
      }
    }
  }
  return found ? { sum, count } : null;
}

module.exports = { gatewayTimeByPayment, completePayments, parseGatewayHistogram };
