import { sleep } from '../clock';
import { TransientError } from '../errors';
import { classifyKubeError } from './kube-error';

export interface RetryOptions {
  /** Total budget for all attempts and the pauses between them (retry_timeout, or less near a lease deadline). */
  readonly budgetMs: number;
  /** HTTP codes retried besides 429/500/502/503/504 (`kubernetes.retriable_http_codes`). */
  readonly extraRetriable?: ReadonlySet<number>;
  readonly signal?: AbortSignal;
  /** Monotonic milliseconds. @default performance.now */
  readonly now?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
  /**
   * Longest single attempt. With several API servers the budget is shared between them, so a server that
   * swallows packets cannot use it all up before the others are tried. @default half the budget for the first
   * attempt, whatever remains for later ones
   */
  readonly maxAttemptMs?: number;
  /** Called before each pause, for logging. */
  readonly onRetry?: (err: Error, attempt: number, delayMs: number) => void;
}

export interface Attempt {
  /** 0 for the first try. */
  readonly index: number;
  /** How long this attempt may take. */
  readonly timeoutMs: number;
}

// Pause before retry n: 100 ms doubling, capped at 1 s, plus up to 100 ms of jitter so members that failed together
// do not retry in step (Patroni's schedule, with smaller jitter since our budgets are shorter in tests).
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 1_000;
const JITTER_MS = 100;
// No attempt gets less than this; a shorter one would time out on a healthy but busy API server.
const MIN_ATTEMPT_MS = 1_000;

/**
 * Runs `op` until it succeeds, fails with a non-retriable error, or the budget runs out. Transient failures
 * (network errors, 429/5xx, configured codes, anything with Retry-After) are retried with back-off; a
 * `Retry-After` answer sets the pause. 409 Conflict and other non-retriable errors are thrown at once, classified
 * (ConflictError, FatalError). Running out of budget throws a TransientError whose cause is the last failure.
 */
export async function withRetry<T>(op: (attempt: Attempt) => Promise<T>, opts: RetryOptions): Promise<T> {
  const now = opts.now ?? (() => performance.now());
  const random = opts.random ?? Math.random;
  const deadline = now() + opts.budgetMs;
  let last: Error | undefined;
  for (let index = 0; ; index++) {
    const remaining = deadline - now();
    if (remaining <= 0 || opts.signal?.aborted) {
      throw new TransientError('kubernetes request retries exhausted', { attempts: index, budgetMs: opts.budgetMs }, { cause: last });
    }
    // The first attempt gets half the budget so a second attempt always fits.
    const share = opts.maxAttemptMs ?? (index === 0 ? opts.budgetMs / 2 : remaining);
    // Whole milliseconds: timers reject fractions.
    const timeoutMs = Math.max(1, Math.floor(Math.min(remaining, Math.max(MIN_ATTEMPT_MS, share))));
    try {
      return await op({ index, timeoutMs });
    } catch (err) {
      const classified = classifyKubeError(err, opts.extraRetriable);
      if (!(classified instanceof TransientError)) throw classified;
      last = classified;
      const retryAfter = classified.details.retryAfterSeconds;
      const backoff = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** index) + random() * JITTER_MS;
      const delay = Math.min(typeof retryAfter === 'number' ? retryAfter * 1000 : backoff, Math.max(0, deadline - now()));
      opts.onRetry?.(classified, index, delay);
      await sleep(delay, opts.signal);
    }
  }
}
