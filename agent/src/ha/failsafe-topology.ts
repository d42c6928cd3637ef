import type { AgentConfig } from '../config/agent-config';
import type { MemberRecord } from './cluster-view';

/** This member's REST API URL as it publishes it (`api_url` of its Pod status). */
export function ownApiUrl(config: AgentConfig): string {
  return `${config.restapi.certfile ? 'https' : 'http'}://${config.restapi.connectAddress}/patroni`;
}

/**
 * The `failsafe` annotation a leader writes while failsafe mode is on (Patroni's layout): every member that publishes
 * a REST API URL, and the leader itself, as a JSON object of name → URL in name order, so an unchanged topology
 * writes the same text.
 */
export function failsafeAnnotation(members: readonly MemberRecord[], self: string, selfApiUrl: string): string {
  const topology = new Map<string, string>(members.filter((m) => m.apiUrl && !m.terminating).map((m) => [m.name, m.apiUrl!]));
  topology.set(self, selfApiUrl);
  return JSON.stringify(Object.fromEntries([...topology].sort(([a], [b]) => a.localeCompare(b))));
}
