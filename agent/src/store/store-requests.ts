import type { Clock } from '../clock';
import type { ApiServerPool } from '../kube/api-server-pool';
import type { KubeClient, KubeRequest, KubeResponse } from '../kube/kube-client';
import { KubeApiError } from '../kube/kube-error';
import { withRetry } from '../kube/retry';
import { errorFields, type Logger } from '../log/logger';

/**
 * Refusals that are often passing: 401 while the kubelet rotates a bound token the server already expired, 403 while
 * RBAC objects are re-applied or an authorizer webhook restarts (Patroni #3536). A leader renewing its lock retries
 * them within its budget rather than losing a loop, and with it perhaps the lease.
 */
const AUTH_REFUSALS = [401, 403] as const;

/**
 * The store's requests to the API: each retried within its budget on transient failures, sent to the API server
 * the bypass pool picks, and counted as contact with the API when answered (Patroni's `dcs_last_seen`).
 */
export class StoreRequests {
  private readonly extraRetriable: ReadonlySet<number>;
  private readonly withRefusals: ReadonlySet<number>;
  private contact: Date | undefined;

  constructor(
    private readonly props: {
      readonly client: KubeClient;
      readonly pool: ApiServerPool;
      readonly clock: Clock;
      readonly logger: Logger;
      readonly retriableHttpCodes: readonly number[];
    },
  ) {
    this.extraRetriable = new Set(props.retriableHttpCodes);
    this.withRefusals = new Set([...props.retriableHttpCodes, ...AUTH_REFUSALS]);
  }

  /** When the API last answered (any request or watch data); undefined before the first answer. */
  get lastContact(): Date | undefined {
    return this.contact;
  }

  /** Records an answer that did not come through `call` (list and watch data). */
  touch(): void {
    this.contact = this.props.clock.wallTime();
  }

  /**
   * One request with retries within `budgetMs`. `onAmbiguous`: a write may have been applied without an answer.
   * `retryRefusals`: 401 and 403 are retried too (see `AUTH_REFUSALS`).
   */
  call<T>(req: KubeRequest, budgetMs: number, onAmbiguous?: () => void, retryRefusals = false): Promise<KubeResponse<T>> {
    const { client, pool, clock, logger } = this.props;
    return withRetry(
      async ({ timeoutMs }) => {
        const server = pool.current();
        try {
          const res = await client.request<T>({ ...req, timeoutMs, server });
          this.touch();
          return res;
        } catch (err) {
          // An answer is contact too, even a refusal.
          if (err instanceof KubeApiError) this.touch();
          const network = !(err instanceof KubeApiError);
          // The write may have been applied: the connection broke, or the server timed out after accepting it.
          if (network || err.status >= 500) {
            onAmbiguous?.();
            pool.failed(server);
          }
          throw err;
        }
      },
      {
        budgetMs: Math.max(0, budgetMs),
        // With the bypass, every API server gets a share of the budget (as Patroni splits it), so one that
        // swallows packets costs a share, not the whole budget.
        maxAttemptMs: pool.size >= 2 ? budgetMs / pool.size : undefined,
        extraRetriable: retryRefusals ? this.withRefusals : this.extraRetriable,
        now: () => clock.monotonicMs(),
        onRetry: (err, attempt, delayMs) =>
          logger.warn('kubernetes request failed; retrying', {
            method: req.method,
            path: req.path,
            attempt,
            delayMs: Math.round(delayMs),
            ...errorFields(err),
          }),
      },
    );
  }
}
