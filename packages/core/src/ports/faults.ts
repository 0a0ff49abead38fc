/**
 * Named crash points. A flow calls `reach(point)` at each place where a crash would leave a distinct
 * state behind (after a transaction committed, before and after each gateway call, before the
 * response). A test build arms some of them (`PAY_FAULTS`) and the process dies there, so the crash
 * tests can prove that recovery finishes the flow; in every other build the points are inert.
 */
export interface FaultPoints {
  /** Passes `point`; an armed implementation ends the process here and never returns. */
  reach(point: string): void;
}

/** The inert implementation: every point is passed without effect. */
export const noFaults: FaultPoints = Object.freeze({ reach: () => undefined });
