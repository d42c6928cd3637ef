/**
 * Time sources. The monotonic clock judges every deadline (lock expiry, lease, retries); wall-clock time is only
 * written into annotations for people and tools to read, and never compared with anything.
 */
export interface Clock {
  /** Milliseconds on a monotonic clock (arbitrary origin). */
  monotonicMs(): number;
  /** Wall-clock time for timestamps written into the lock. */
  wallTime(): Date;
}

/**
 * The process clock. `wallOffsetMs` shifts the wall clock only; tests use it to simulate a skewed node, which must
 * change nothing about who leads.
 */
export function systemClock(wallOffsetMs = 0): Clock {
  return {
    monotonicMs: () => performance.now(),
    wallTime: () => new Date(Date.now() + wallOffsetMs),
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const t = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
