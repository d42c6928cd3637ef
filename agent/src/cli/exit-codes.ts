/** Exit codes of the `pgha` cluster commands; scripts may rely on them (documented in the usage text and README). */
export const ExitCode = {
  /** The command did what was asked (or scheduled it, when asked to schedule). */
  ok: 0,
  /** Something unexpected failed; the message says what. */
  failed: 1,
  /** The command line was wrong; nothing was sent. */
  usage: 2,
  /** The cluster refused or the request is not possible (no such member, no leader, already paused, HTTP 4xx/412). */
  refused: 3,
  /** Kubernetes or the member API could not be reached, or the action did not complete within the timeout. */
  unreachable: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Maps a member's REST answer to an exit code: 2xx ok; any other answer is a refusal (3), 503 included: Patroni
 * answers 503 for "I am the leader, can not reinitialize" and "restart conditions are not satisfied". Only a member
 * that did not answer is unreachable (4); callers map that case themselves.
 */
export function exitCodeForStatus(status: number): ExitCode {
  return status >= 200 && status < 300 ? ExitCode.ok : ExitCode.refused;
}
