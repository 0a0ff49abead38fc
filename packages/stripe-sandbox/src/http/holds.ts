/**
 * Requests held in flight by a `delay` or `latency` fault. Stopping the sandbox releases every hold at
 * once (reporting it as aborted) so that `stop()` never waits for a long injected latency.
 */
export class Holds {
  private readonly waiting = new Set<() => void>();
  private closed = false;

  /** Waits `ms`; resolves `false` when the sandbox stopped meanwhile. */
  wait(ms: number): Promise<boolean> {
    if (this.closed) {
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const release = (): void => {
        clearTimeout(timer);
        this.waiting.delete(release);
        resolve(!this.closed);
      };
      const timer = setTimeout(release, ms);
      this.waiting.add(release);
    });
  }

  close(): void {
    this.closed = true;
    for (const release of [...this.waiting]) {
      release();
    }
  }
}
