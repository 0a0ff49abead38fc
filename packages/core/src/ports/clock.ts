/** The time source. Services never call `new Date()` themselves, so tests can move time. */
export interface Clock {
  /** The current instant: every timestamp and deadline the services write comes from here. */
  now(): Date;
}

/** The real clock. */
export const systemClock: Clock = { now: () => new Date() };
