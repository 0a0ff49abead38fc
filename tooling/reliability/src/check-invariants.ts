import { evaluateK1 } from './checkers/k1-one-charge.js';
import { evaluateK2 } from './checkers/k2-matches-stripe.js';
import { evaluateK3 } from './checkers/k3-refund-bounds.js';
import { evaluateK4 } from './checkers/k4-event-chains.js';
import { evaluateK5 } from './checkers/k5-idempotency-keys.js';
import type { InvariantContext } from './context.js';
import { readPayState } from './pay-state.js';
import { InvariantViolationError, type InvariantReport, type Violation } from './report.js';
import { readSandboxState } from './sandbox-state.js';
import type { World } from './world.js';

async function readWorld(ctx: InvariantContext): Promise<World> {
  // pay first: an object pay recorded is then certain to be in the later read of the sandbox.
  const pay = await readPayState(ctx.databaseUrl);
  const sandbox = await readSandboxState(ctx.sandbox);
  return { pay, sandbox };
}

/** K1: ≤ 1 PaymentIntent and ≤ 1 successful charge per payment; no intent for a payment pay lacks. */
export async function checkK1(ctx: InvariantContext): Promise<Violation[]> {
  return evaluateK1(await readWorld(ctx));
}

/** K2: every payment and refund is final (or legitimately waiting) and equals the sandbox's. */
export async function checkK2(ctx: InvariantContext): Promise<Violation[]> {
  return evaluateK2(await readWorld(ctx));
}

/** K3: Σ refunds (pending + succeeded) ≤ captured, per payment in pay and per intent in the sandbox. */
export async function checkK3(ctx: InvariantContext): Promise<Violation[]> {
  return evaluateK3(await readWorld(ctx));
}

/** K4: one event row per change (one chain per object), and the events replay to amount_refunded. */
export async function checkK4(ctx: Pick<InvariantContext, 'databaseUrl'>): Promise<Violation[]> {
  return evaluateK4(await readPayState(ctx.databaseUrl));
}

/** K5: no idempotency key locked or without its stored response. */
export async function checkK5(ctx: Pick<InvariantContext, 'databaseUrl'>): Promise<Violation[]> {
  return evaluateK5(await readPayState(ctx.databaseUrl));
}

/** Runs K1–K5 over one read of pay's database and the sandbox. */
export async function checkInvariants(ctx: InvariantContext): Promise<InvariantReport> {
  const world = await readWorld(ctx);
  const violations = [
    ...evaluateK1(world),
    ...evaluateK2(world),
    ...evaluateK3(world),
    ...evaluateK4(world.pay),
    ...evaluateK5(world.pay),
  ];
  return {
    ok: violations.length === 0,
    violations,
    checked: {
      payments: world.pay.payments.length,
      refunds: world.pay.refunds.length,
      subscriptions: world.pay.subscriptions.length,
      idempotencyKeys: world.pay.idempotencyKeys.length,
      paymentIntents: world.sandbox.paymentIntents.length,
      charges: world.sandbox.charges.length,
      stripeRefunds: world.sandbox.refunds.length,
    },
  };
}

/**
 * {@link checkInvariants}, throwing an {@link InvariantViolationError} whose message lists every
 * violation; resolves to the (clean) report otherwise.
 */
export async function assertInvariants(ctx: InvariantContext): Promise<InvariantReport> {
  const report = await checkInvariants(ctx);
  if (!report.ok) {
    throw new InvariantViolationError(report);
  }
  return report;
}
