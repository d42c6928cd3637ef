import { ConflictError, FatalError, TransientError } from '../../../agent/src/errors';
import { KubeApiError } from '../../../agent/src/kube/kube-error';
import { withRetry } from '../../../agent/src/kube/retry';

const apiError = (status: number, retryAfter?: number) => new KubeApiError('PATCH', '/x', status, 'r', {}, retryAfter);

describe('withRetry', () => {
  it('retries transient failures until one succeeds', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw apiError(503);
        return 'ok';
      },
      { budgetMs: 5_000, random: () => 0 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('never retries a 409: the race is lost', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw apiError(409);
        },
        { budgetMs: 5_000 },
      ),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(calls).toBe(1);
  });

  it('fails at once on a non-retriable answer', async () => {
    await expect(
      withRetry(
        async () => {
          throw apiError(422);
        },
        { budgetMs: 5_000 },
      ),
    ).rejects.toBeInstanceOf(FatalError);
  });

  it('retries configured extra codes', async () => {
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls === 1) throw apiError(401);
      },
      { budgetMs: 5_000, extraRetriable: new Set([401]), random: () => 0 },
    );
    expect(calls).toBe(2);
  });

  it('pauses as long as Retry-After says', async () => {
    const pauses: number[] = [];
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls === 1) throw apiError(429, 1);
      },
      { budgetMs: 5_000, onRetry: (_e, _a, d) => pauses.push(d) },
    );
    expect(pauses).toEqual([1000]);
  });

  it('gives up when the budget is spent, keeping the last failure as the cause', async () => {
    const err = await withRetry(
      async () => {
        throw apiError(500);
      },
      { budgetMs: 300, random: () => 0 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(((err as TransientError).cause as Error).message).toMatch(/HTTP 500/);
  });

  it('gives every attempt a timeout within the budget, the first only half of it', async () => {
    const timeouts: number[] = [];
    await withRetry(
      async ({ timeoutMs, index }) => {
        timeouts.push(timeoutMs);
        if (index === 0) throw new Error('ECONNRESET');
      },
      { budgetMs: 10_000, random: () => 0 },
    );
    expect(timeouts[0]).toBe(5_000);
    expect(timeouts[1]).toBeLessThanOrEqual(10_000 - 100);
  });

  it('gives whole-millisecond attempt timeouts even for fractional budgets (timers reject fractions)', async () => {
    const timeouts: number[] = [];
    await withRetry(
      async ({ timeoutMs }) => {
        timeouts.push(timeoutMs);
      },
      { budgetMs: 4_999.7 },
    );
    expect(Number.isInteger(timeouts[0])).toBe(true);
  });
});

describe('withRetry with several API servers', () => {
  it('caps every attempt at its share of the budget', async () => {
    const timeouts: number[] = [];
    await withRetry(
      async ({ timeoutMs, index }) => {
        timeouts.push(timeoutMs);
        if (index < 2) throw new Error('ETIMEDOUT');
      },
      { budgetMs: 10_000, maxAttemptMs: 2_500, random: () => 0 },
    );
    expect(timeouts.every((t) => t <= 2_500)).toBe(true);
    expect(timeouts).toHaveLength(3);
  });
});
