import type { SandboxClock } from '../clock.js';
import type { SandboxEvent } from './hub.js';

/** What the hub knows about one published event: who owes a 2xx, who answered, who failed. */
export interface EventState {
  readonly account: string;
  readonly event: SandboxEvent;
  /** Endpoint ids the event was scheduled for when published. */
  readonly targets: readonly string[];
  readonly succeeded: Set<string>;
  /** Endpoints with at least one failed attempt (they may succeed later). */
  readonly failed: Set<string>;
}

/** One event on its way to one endpoint, through the attempts of its retry schedule. */
export interface Delivery {
  readonly seq: number;
  readonly state: EventState;
  readonly endpointId: string;
  /** Attempt offsets in seconds from `firstDueAt`. */
  readonly offsets: readonly number[];
  readonly firstDueAt: number;
  dueAt: number;
  attempts: number;
  outcome: 'pending' | 'succeeded' | 'failed' | 'dropped';
}

/** What an attempt asks of the queue: nothing more, or the next attempt on the schedule. */
export type AttemptResult = 'done' | 'retry';

interface Lane {
  queue: Delivery[];
  active: number;
}

/** What the queue needs from the hub: the clock, the attempt itself, and the shuffle fault's ordering. */
export interface DeliveryQueueOptions {
  clock: SandboxClock;
  /** Concurrent attempts per endpoint. */
  concurrency: number;
  /** Makes one attempt; the queue schedules the next one when it answers `retry`. */
  attempt: (delivery: Delivery) => Promise<AttemptResult>;
  /** Reorders a batch of deliveries that fell due together (the shuffle fault); may return it as is. */
  order: (due: Delivery[]) => Delivery[];
  /** Arm wall-clock timers for future attempts (a real clock with automatic delivery). */
  useTimers: boolean;
}

/**
 * Deliveries waiting for their due time on the sandbox clock, and per-endpoint lanes that run at most
 * `concurrency` attempts at a time, in due order. Nothing here blocks: attempts are promises, and
 * `promoteDue` only moves due deliveries into lanes and starts what the lanes allow.
 */
export class DeliveryQueue {
  private scheduled: Delivery[] = [];
  private lanes = new Map<string, Lane>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private timerDueAt = Infinity;
  private kickPending = false;
  private closed = false;
  private seq = 0;

  constructor(private readonly options: DeliveryQueueOptions) {}

  nextSeq(): number {
    return ++this.seq;
  }

  add(delivery: Delivery): void {
    this.scheduled.push(delivery);
  }

  /**
   * Promotes due deliveries on the next turn of the event loop, so that the events one API request
   * publishes together fall due as one batch (which the shuffle fault can then reorder).
   */
  kick(): void {
    if (this.kickPending || this.closed) {
      return;
    }
    this.kickPending = true;
    setImmediate(() => {
      this.kickPending = false;
      this.promoteDue();
    });
  }

  /** Moves every delivery due now into its endpoint's lane and starts what concurrency allows. */
  promoteDue(): void {
    if (this.closed) {
      return;
    }
    const now = this.options.clock.now();
    const due: Delivery[] = [];
    const later: Delivery[] = [];
    for (const delivery of this.scheduled) {
      (delivery.dueAt <= now ? due : later).push(delivery);
    }
    this.scheduled = later;
    due.sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
    for (const delivery of due.length > 1 ? this.options.order(due) : due) {
      this.enqueue(delivery);
    }
    this.armTimer();
  }

  /** Removes an endpoint's waiting deliveries (it was disabled or deleted); attempts in flight finish. */
  dropEndpoint(endpointId: string): void {
    const keep = (delivery: Delivery): boolean => {
      if (delivery.endpointId !== endpointId) {
        return true;
      }
      delivery.outcome = 'dropped';
      return false;
    };
    this.scheduled = this.scheduled.filter(keep);
    const lane = this.lanes.get(endpointId);
    if (lane) {
      lane.queue = lane.queue.filter(keep);
    }
  }

  /** Whether an attempt is running (or waiting in a lane behind one). */
  busy(): boolean {
    return this.running.size > 0;
  }

  /** Resolves once no attempt is running or waiting in a lane (scheduled future attempts may remain). */
  async idle(): Promise<void> {
    while (this.running.size > 0) {
      await Promise.allSettled([...this.running]);
    }
  }

  /** Forgets every delivery; attempts in flight run out (the hub aborts their requests). */
  clear(): void {
    for (const delivery of this.scheduled) {
      delivery.outcome = 'dropped';
    }
    this.scheduled = [];
    for (const lane of this.lanes.values()) {
      lane.queue = [];
    }
    this.lanes = new Map();
    this.armTimer();
  }

  close(): void {
    this.closed = true;
    this.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private enqueue(delivery: Delivery): void {
    let lane = this.lanes.get(delivery.endpointId);
    if (!lane) {
      lane = { queue: [], active: 0 };
      this.lanes.set(delivery.endpointId, lane);
    }
    lane.queue.push(delivery);
    this.drain(lane);
  }

  private drain(lane: Lane): void {
    while (!this.closed && lane.active < this.options.concurrency) {
      const delivery = lane.queue.shift();
      if (!delivery) {
        return;
      }
      lane.active += 1;
      const run: Promise<void> = this.runOne(delivery).finally(() => {
        lane.active -= 1;
        this.running.delete(run);
        this.drain(lane);
      });
      this.running.add(run);
    }
  }

  private async runOne(delivery: Delivery): Promise<void> {
    let result: AttemptResult;
    try {
      result = await this.options.attempt(delivery);
    } catch {
      // The attempt function records its own failures; an exception here is a bug, so stop retrying
      // this delivery rather than loop on it.
      delivery.outcome = 'failed';
      return;
    }
    const offset = delivery.offsets[delivery.attempts];
    if (result !== 'retry' || offset === undefined || this.closed) {
      return;
    }
    delivery.dueAt = delivery.firstDueAt + offset * 1000;
    if (delivery.dueAt <= this.options.clock.now()) {
      // Already due (a virtual clock moved far ahead): run it now, after what is queued.
      this.enqueue(delivery);
    } else {
      this.scheduled.push(delivery);
      this.armTimer();
    }
  }

  /** On a real clock, wakes up when the earliest scheduled attempt falls due. */
  private armTimer(): void {
    if (!this.options.useTimers || this.closed) {
      return;
    }
    let earliest = Infinity;
    for (const delivery of this.scheduled) {
      earliest = Math.min(earliest, delivery.dueAt);
    }
    if (earliest === this.timerDueAt) {
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueAt = earliest;
    if (earliest === Infinity) {
      return;
    }
    // setTimeout takes at most 2^31-1 ms; a later attempt simply re-arms when this one fires.
    const wait = Math.min(Math.max(earliest - this.options.clock.now(), 0), 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDueAt = Infinity;
      this.promoteDue();
    }, wait);
    // Pending retries alone must not keep a process alive; the HTTP server does that.
    this.timer.unref();
  }
}
