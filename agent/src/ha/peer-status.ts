import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { OtherCandidate } from '../core/failover-rules';
import type { MemberRecord } from './cluster-view';

/** Patroni asks every other member for `GET /patroni` with a 2 s timeout before racing; so do we. */
export const PEER_TIMEOUT_MS = 2000;

/** GETs a URL and parses JSON; undefined on any failure (refused, timeout, not JSON). */
export function getJson(url: string, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    let req;
    try {
      const u = new URL(url);
      const fn = u.protocol === 'https:' ? httpsRequest : httpRequest;
      // Members use certificates for their pod IPs, which no CA we know may have signed; the answer is advisory.
      req = fn(u, { method: 'GET', timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          try {
            const v: unknown = JSON.parse(body);
            resolve(typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
          } catch {
            resolve(undefined);
          }
        });
        res.on('error', () => resolve(undefined));
      });
    } catch {
      resolve(undefined);
      return;
    }
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function bigintOf(v: unknown): bigint | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return BigInt(Math.trunc(v));
  return undefined;
}

/** Reads a `GET /patroni` answer into what the race compares. */
export function candidateFromStatus(name: string, body: Record<string, unknown> | undefined): OtherCandidate {
  if (!body) return { name, reachable: false, isPrimary: false, nofailover: false, failoverPriority: 1 };
  const xlog = (typeof body.xlog === 'object' && body.xlog !== null ? body.xlog : {}) as Record<string, unknown>;
  const tags = (typeof body.tags === 'object' && body.tags !== null ? body.tags : {}) as Record<string, unknown>;
  const primaryLsn = bigintOf(xlog.location);
  const received = bigintOf(xlog.received_location);
  const replayed = bigintOf(xlog.replayed_location);
  const standbyLsn = received === undefined ? replayed : replayed === undefined ? received : received > replayed ? received : replayed;
  const running = body.state === 'running';
  const priority = typeof tags.failover_priority === 'number' ? tags.failover_priority : 1;
  return {
    name,
    reachable: running,
    isPrimary: running && (primaryLsn !== undefined || body.role === 'primary' || body.role === 'master'),
    lsn: primaryLsn ?? standbyLsn,
    timeline: typeof body.timeline === 'number' && Number.isInteger(body.timeline) ? body.timeline : undefined,
    nofailover: tags.nofailover === true,
    failoverPriority: priority,
  };
}

/** Asks every other member in parallel. */
export async function peerCandidates(members: readonly MemberRecord[], self: string): Promise<OtherCandidate[]> {
  const others = members.filter((m) => m.name !== self && m.apiUrl);
  return Promise.all(
    others.map(async (m) => ({ ...candidateFromStatus(m.name, await getJson(m.apiUrl!, PEER_TIMEOUT_MS)), ...(m.revision ? { revision: m.revision } : {}) })),
  );
}
