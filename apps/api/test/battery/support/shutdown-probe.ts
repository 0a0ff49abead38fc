import net from 'node:net';

/*
 * How a process's listener looks from outside while it shuts down: whether a NEW connection is still
 * accepted, polled until it is refused.
 */

/** Resolves true when a TCP connection to `port` is accepted, false when it is refused or fails. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Polls `port` every `everyMs` from now until a connection is refused; resolves with `performance.now()`
 * at the first refusal, or null after `guardMs` (a hang guard).
 */
export async function firstRefusal(port: number, guardMs: number, everyMs = 5): Promise<number | null> {
  const deadline = performance.now() + guardMs;
  while (performance.now() < deadline) {
    if (!(await accepts(port))) {
      return performance.now();
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return null;
}
