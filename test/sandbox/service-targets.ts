import type { KubeClient } from '../../agent/src/kube/kube-client';

interface SliceList {
  readonly items: readonly { readonly endpoints?: readonly { readonly addresses: readonly string[]; readonly conditions?: { readonly ready?: boolean } }[] }[];
}

/** The ready endpoint addresses (pod IPs) of one Service, read from its EndpointSlices on request. */
export class ServiceTargets {
  private addresses: string[] = [];
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly service: string,
  ) {}

  async refresh(): Promise<string[]> {
    if (this.stopped) return this.addresses;
    try {
      const res = await this.client.request<SliceList>({
        method: 'GET',
        path: `/apis/discovery.k8s.io/v1/namespaces/${this.namespace}/endpointslices`,
        query: { labelSelector: `kubernetes.io/service-name=${this.service}` },
        timeoutMs: 5000,
      });
      this.addresses = res.body.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses)).sort();
    } catch {
      // Keep the last answer; the next refresh tries again.
    }
    return this.addresses;
  }

  current(): string[] {
    return this.addresses;
  }

  stop(): void {
    this.stopped = true;
  }
}
