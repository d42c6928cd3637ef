/** A command line the `pgha` binary cannot accept; main prints the message and exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
