import type { SandboxClock } from './clock.js';

interface Task {
  at: number;
  seq: number;
  run: () => void;
}

/**
 * Work that happens later on the sandbox clock: the `charge.updated` of an asynchronous capture, a
 * dispute opening after its charge. On a virtual clock due tasks run when the clock is advanced or set;
 * on a real one a single unref'd timer waits for the earliest task. A min-heap keeps both O(log n).
 */
export class Scheduler {
  private heap: Task[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly clock: SandboxClock,
    private readonly onError: (error: unknown) => void,
  ) {
    this.unsubscribe = clock.onChange(() => this.runDue());
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Runs `run` once the clock reaches `atMs`. */
  at(atMs: number, run: () => void): void {
    this.push({ at: atMs, seq: this.seq++, run });
    this.arm();
  }

  /** Runs every task that is due now. */
  runDue(): void {
    const now = this.clock.now();
    for (let top = this.heap[0]; top !== undefined && top.at <= now; top = this.heap[0]) {
      this.pop();
      try {
        top.run();
      } catch (error) {
        this.onError(error);
      }
    }
    this.arm();
  }

  clear(): void {
    this.heap = [];
    this.disarm();
  }

  close(): void {
    this.clear();
    this.unsubscribe();
  }

  private arm(): void {
    this.disarm();
    const top = this.heap[0];
    if (this.clock.kind !== 'real' || top === undefined) {
      return;
    }
    this.timer = setTimeout(() => this.runDue(), Math.max(0, top.at - this.clock.now()));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private less(a: Task, b: Task): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(task: Task): void {
    const heap = this.heap;
    heap.push(task);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Task;
      if (!this.less(task, p)) {
        break;
      }
      heap[i] = p;
      i = parent;
    }
    heap[i] = task;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) {
      return;
    }
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = last;
      let at = -1;
      const l = heap[left];
      const r = heap[right];
      if (l !== undefined && this.less(l, smallest)) {
        smallest = l;
        at = left;
      }
      if (r !== undefined && this.less(r, smallest)) {
        smallest = r;
        at = right;
      }
      if (at === -1) {
        break;
      }
      heap[i] = smallest;
      i = at;
    }
    heap[i] = last;
  }
}
