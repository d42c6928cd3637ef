import { ConflictError, FatalError, TransientError } from '../errors';

/** A non-2xx answer from the Kubernetes API, with the parsed `Status` object when the server sent one. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly reason: string,
    readonly body: unknown,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(`${method} ${path}: HTTP ${status} ${reason}`);
  }
}

/** HTTP codes the Kubernetes API uses for "try again": server errors and throttling. */
const DEFAULT_RETRIABLE_CODES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/**
 * Maps an API or network failure onto the agent's error classes.
 * `extraRetriable` adds the codes configured as `retriable_http_codes`.
 */
export function classifyKubeError(err: unknown, extraRetriable: ReadonlySet<number> = new Set()): Error {
  if (err instanceof KubeApiError) {
    const details = { status: err.status, path: err.path, method: err.method, retryAfterSeconds: err.retryAfterSeconds };
    if (err.status === 409) return new ConflictError(err.message, details, { cause: err });
    if (DEFAULT_RETRIABLE_CODES.has(err.status) || extraRetriable.has(err.status) || err.retryAfterSeconds !== undefined) {
      return new TransientError(err.message, details, { cause: err });
    }
    return new FatalError(err.message, details, { cause: err });
  }
  if (err instanceof TransientError || err instanceof ConflictError || err instanceof FatalError) return err;
  // Anything else that reached us from a request is a network failure (reset, refused, timeout, TLS handshake).
  const message = err instanceof Error ? err.message : String(err);
  return new TransientError(`kubernetes request failed: ${message}`, {}, { cause: err });
}
