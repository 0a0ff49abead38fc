/*
 * The Stripe sandbox the checkers read. A battery starts it in the test process, so that it and its
 * ledger outlive every process under test the battery kills; re-exported here so a test package needs
 * this one dependency for the whole world it checks.
 */
export { startSandbox, type Sandbox, type SandboxOptions } from '@pay/stripe-sandbox';
