/**
 * The agent's error classes. Every failure the agent can meet falls into one of these, so callers decide by class
 * (retry, give up the race, exit) rather than by parsing messages. Each keeps its `cause`.
 */

/** An error with structured details for logs (status, path, attempts...) and a `cause` chain. */
abstract class DetailedError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A failure that may go away if the same request is tried again (network errors, 5xx, 429, timeouts). */
export class TransientError extends DetailedError {
  override readonly name = 'TransientError';
}

/** An optimistic-concurrency conflict: someone else changed the object first. An expected outcome, never retried blindly. */
export class ConflictError extends DetailedError {
  override readonly name = 'ConflictError';
}

/** A failure that repeating the request cannot fix (403, 404 where the object must exist, 422, bad data). */
export class FatalError extends DetailedError {
  override readonly name = 'FatalError';
}

/** Invalid configuration: names the key, the value received and what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(`invalid configuration: ${key}=${JSON.stringify(value)}; ${allowed}`);
  }
}
