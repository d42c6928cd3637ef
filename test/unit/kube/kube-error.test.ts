import { ConflictError, FatalError, TransientError } from '../../../agent/src/errors';
import { classifyKubeError, KubeApiError } from '../../../agent/src/kube/kube-error';

const apiError = (status: number, retryAfter?: number) => new KubeApiError('PATCH', '/x', status, 'r', {}, retryAfter);

describe('classifyKubeError', () => {
  it.each([
    [409, ConflictError],
    [500, TransientError],
    [503, TransientError],
    [504, TransientError],
    [429, TransientError],
    [403, FatalError],
    [404, FatalError],
    [422, FatalError],
  ])('maps HTTP %i to %p', (status, cls) => {
    expect(classifyKubeError(apiError(status))).toBeInstanceOf(cls);
  });

  it('retries any answer that carries Retry-After', () => {
    expect(classifyKubeError(apiError(403, 2))).toBeInstanceOf(TransientError);
  });

  it('retries configured extra codes', () => {
    expect(classifyKubeError(apiError(401), new Set([401]))).toBeInstanceOf(TransientError);
  });

  it('treats network failures as transient and keeps the cause', () => {
    const cause = new Error('ECONNREFUSED');
    const err = classifyKubeError(cause);
    expect(err).toBeInstanceOf(TransientError);
    expect(err.cause).toBe(cause);
  });
});
