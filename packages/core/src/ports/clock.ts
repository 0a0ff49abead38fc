/** The time source. Services never call `new Date()` themselves, so tests can move time. */
export interface Clock {
  now(): Date;
}

/** The real clock. */
export const systemClock: Clock = { now: () => new Date() };
