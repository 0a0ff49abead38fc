/**
 * `@pay/reliability`: the invariant checkers K1–K5 of RELIABILITY.md, run after every reliability test.
 * They read pay's database (plain read-only SQL) and a `@pay/stripe-sandbox` (its control plane over
 * HTTP, its objects through the real `stripe` SDK), so they work after the process under test died.
 */
export type { InvariantContext, SandboxTarget } from './context.js';
export {
  assertInvariants,
  checkInvariants,
  checkK1,
  checkK2,
  checkK3,
  checkK4,
  checkK5,
} from './check-invariants.js';
export {
  formatReport,
  INVARIANT_TITLES,
  INVARIANTS,
  InvariantViolationError,
  type CheckedCounts,
  type Invariant,
  type InvariantReport,
  type Violation,
} from './report.js';
export {
  readSandboxLedger,
  readSandboxRequests,
  type SandboxLedgerKind,
  type SandboxLedgerObject,
  type SandboxRequest,
  type SandboxRequestFilter,
} from './sandbox-control.js';
export { sandboxClient, readSandboxState, type SandboxState } from './sandbox-state.js';
export {
  readPayState,
  type EventRow,
  type IdempotencyKeyRow,
  type PaymentRow,
  type PayState,
  type RefundRow,
  type SubscriptionRow,
} from './pay-state.js';
export { startSandbox, type Sandbox, type SandboxOptions } from './sandbox.js';
export {
  armTransactionFault,
  disarmTransactionFaults,
  installTransactionFaults,
  transactionFaultsRaised,
  TRANSACTION_FAULT_TARGETS,
  type TransactionFault,
  type TransactionFaultCode,
  type TransactionFaultTarget,
} from './transaction-faults.js';
