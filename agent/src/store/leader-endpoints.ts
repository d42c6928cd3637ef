import type { KubeObject } from '../kube/object-cache';

/**
 * Endpoints mode: the leader Endpoints `<scope>` carries the lock and, in the same write, the address of the
 * leader's Pod, so the lock and the primary Service's traffic move together (Patroni's `_map_subsets`).
 */
export interface EndpointAddress {
  readonly ip: string;
  readonly hostname?: string;
  readonly nodeName?: string;
  readonly targetRef?: { kind: string; namespace?: string; name: string; uid?: string };
}

export interface EndpointPort {
  readonly name?: string;
  readonly port: number;
  readonly protocol?: string;
}

export interface Subset {
  readonly addresses?: readonly EndpointAddress[];
  readonly ports?: readonly EndpointPort[];
}

export interface Pod extends KubeObject {
  readonly spec?: { nodeName?: string; hostname?: string };
  readonly status?: { podIP?: string };
}

/**
 * The subsets that point at our Pod: `kubernetes.pod_ip` (or the Pod's own IP) and `kubernetes.ports`.
 * `null` when no IP is known.
 */
export function leaderSubsets(
  pod: Pod | undefined,
  podIp: string | undefined,
  ports: readonly { name?: string; port: number }[],
  namespace: string,
): Subset[] | null {
  const ip = podIp ?? pod?.status?.podIP;
  if (!ip) return null;
  const address: EndpointAddress = {
    ip,
    ...(pod?.spec?.hostname ? { hostname: pod.spec.hostname } : {}),
    ...(pod?.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    ...(pod ? { targetRef: { kind: 'Pod', namespace, name: pod.metadata.name, uid: pod.metadata.uid } } : {}),
  };
  return [{ addresses: [address], ports: ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: 'TCP' })) }];
}

/** True when two subset lists route the same (addresses, target Pods and ports); then no write is needed. */
export function sameSubsets(a: readonly Subset[] | undefined, b: readonly Subset[] | undefined): boolean {
  const key = (subsets: readonly Subset[] | undefined) =>
    JSON.stringify(
      (subsets ?? []).map((s) => ({
        ips: (s.addresses ?? []).map((x) => [x.ip, x.targetRef?.name ?? null]).sort(),
        ports: (s.ports ?? []).map((p) => [p.name ?? '', p.port, p.protocol ?? 'TCP']).sort(),
      })),
    );
  return key(a) === key(b);
}
