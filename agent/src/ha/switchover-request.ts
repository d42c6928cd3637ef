import type { ApiResult, SwitchoverRequest } from '../api/backend';
import { sleep } from '../clock';
import type { OtherCandidate } from '../core/failover-rules';
import type { LockView } from '../core/model';
import type { ClusterObjects } from './cluster-objects';
import { failoverRequest, type MemberRecord } from './cluster-view';

/**
 * Patroni's checks before a switchover/failover request is written (its `is_failover_possible`), with its
 * messages, which patronictl prints verbatim. Returns the refusal, or undefined when it may go ahead.
 */
export function switchoverRefusal(i: {
  req: SwitchoverRequest;
  holder: string | null;
  members: readonly MemberRecord[];
  /** Synchronous standbys when synchronous mode is on. */
  sync: readonly string[] | undefined;
  /** `GET /patroni` of every member but the leader. */
  statuses: readonly OtherCandidate[];
}): string | undefined {
  const { req, holder } = i;
  const action = req.action;
  if (req.leader && req.leader !== holder) return 'leader name does not match';
  let names: string[];
  if (req.candidate) {
    if (action === 'switchover' && i.sync && !i.sync.includes(req.candidate)) return 'candidate name does not match with sync_standby';
    if (!i.members.some((m) => m.name === req.candidate)) return 'candidate does not exists';
    names = [req.candidate];
  } else if (i.sync) {
    names = i.members.filter((m) => i.sync!.includes(m.name)).map((m) => m.name);
    if (names.length === 0) return `${action} is not possible: can not find sync_standby`;
  } else {
    names = i.members.filter((m) => m.name !== holder && m.apiUrl).map((m) => m.name);
    if (names.length === 0) return `${action} is not possible: cluster does not have members except leader`;
  }
  const good = i.statuses.some((s) => names.includes(s.name) && s.reachable && !s.nofailover && s.failoverPriority > 0);
  return good ? undefined : `${action} is not possible: no good candidates have been found`;
}

const POLL_MS = 100;

/**
 * Waits for the outcome the way Patroni's API does (up to 2·max(10, loop_wait) s), but watching the cache every
 * 100 ms instead of every second: 200 when the lock moved to the candidate (or to someone else, said so), 503
 * when the request disappeared without a new leader or the time ran out.
 */
export async function pollSwitchover(i: {
  store: ClusterObjects & { lock(): LockView };
  action: 'switchover' | 'failover';
  leader: string | null;
  candidate: string | undefined;
  timeoutMs: number;
}): Promise<ApiResult> {
  const past = i.action === 'switchover' ? 'switched' : 'failed';
  const title = i.action === 'switchover' ? 'Switchover' : 'Failover';
  const deadline = Date.now() + i.timeoutMs;
  while (Date.now() < deadline) {
    await sleep(POLL_MS);
    const holder = i.store.lock().holder;
    if (holder !== null && holder !== i.leader) {
      if (!i.candidate || i.candidate === holder) return { status: 200, body: `Successfully ${past} over to "${holder}"` };
      return { status: 200, body: `${title.replace('over', '')}ed over to "${holder}" instead of "${i.candidate}"` };
    }
    if (!failoverRequest(i.store.object('failover'))) return { status: 503, body: `${title} failed` };
  }
  return { status: 503, body: `${title} status unknown` };
}
