import { request as httpRequest } from 'node:http';
import type { KubeClient } from '../../agent/src/kube/kube-client';
import { STRATEGIC_MERGE_PATCH } from '../../agent/src/kube/kube-client';
import { KubeApiError } from '../../agent/src/kube/kube-error';

/**
 * Plays the kubelet for one sandbox member that runs as a local process: creates its Pod object, reports it
 * Running with a pod IP, and keeps the Ready condition in step with the member's readiness endpoint, so Services
 * and EndpointSlices behave as they would in a cluster.
 *
 * Pod IPs are from TEST-NET-2 (198.51.100.0/24) because the API refuses loopback addresses in Endpoints and
 * EndpointSlices. They are only names: nothing dials them. The sandbox's forwarder maps each to the member's real
 * loopback address.
 */
export interface SimulatedPodProps {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly podIp: string;
  readonly containerPorts: readonly { readonly name: string; readonly containerPort: number }[];
  /** URL polled like a readinessProbe (`http://127.0.0.x:8008/readiness`); 200 means Ready. */
  readonly readinessUrl: string;
  /** @default 1000 (a tighter period than a real probe, so the sandbox reacts quickly) */
  readonly probePeriodMs?: number;
}

export const SANDBOX_NODE = 'pgha-sandbox';

function probe(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export class SimulatedPod {
  private timer: NodeJS.Timeout | undefined;
  private ready: boolean | undefined;
  private probing = false;

  constructor(private readonly props: SimulatedPodProps) {}

  private get path(): string {
    return `/api/v1/namespaces/${this.props.namespace}/pods/${this.props.name}`;
  }

  /** Creates the Pod (replacing a leftover one) and marks it Running, not yet Ready. */
  async create(): Promise<void> {
    const p = this.props;
    await this.delete();
    await p.client.request({
      method: 'POST',
      path: `/api/v1/namespaces/${p.namespace}/pods`,
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: p.name, labels: p.labels },
        spec: {
          nodeName: SANDBOX_NODE,
          hostname: p.name,
          containers: [{ name: 'pgha', image: 'pgha-sandbox/local-process', ports: p.containerPorts.map((c) => ({ ...c, protocol: 'TCP' })) }],
        },
      },
    });
    await this.setReady(false);
  }

  /** Starts probing readiness. */
  start(): void {
    const period = this.props.probePeriodMs ?? 1000;
    const tick = async () => {
      if (this.probing) return;
      this.probing = true;
      try {
        const ok = await probe(this.props.readinessUrl, Math.min(period, 2000));
        if (ok !== this.ready) await this.setReady(ok);
      } catch {
        // The next tick tries again; a missing Pod simply stays missing.
      } finally {
        this.probing = false;
      }
    };
    this.timer = setInterval(() => void tick(), period);
    void tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async delete(): Promise<void> {
    try {
      await this.props.client.request({ method: 'DELETE', path: this.path, query: { gracePeriodSeconds: 0 } });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
      return;
    }
    // Wait until it is gone, so a re-create does not race the deletion.
    for (let i = 0; i < 100; i++) {
      try {
        await this.props.client.request({ method: 'GET', path: this.path });
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return;
        throw err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async setReady(ready: boolean): Promise<void> {
    const now = new Date().toISOString();
    const status = ready ? 'True' : 'False';
    await this.props.client.request({
      method: 'PATCH',
      path: `${this.path}/status`,
      contentType: STRATEGIC_MERGE_PATCH,
      body: {
        status: {
          phase: 'Running',
          hostIP: '198.51.100.1',
          podIP: this.props.podIp,
          podIPs: [{ ip: this.props.podIp }],
          startTime: now,
          conditions: [
            { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
            { type: 'Initialized', status: 'True', lastTransitionTime: now },
            { type: 'ContainersReady', status, lastTransitionTime: now },
            { type: 'Ready', status, lastTransitionTime: now },
          ],
        },
      },
    });
    this.ready = ready;
  }
}

/**
 * The Node the sandbox's Pods name. The EndpointSlice controller leaves out Pods whose node does not exist, so it
 * must be there; nothing runs on it.
 */
export async function ensureSandboxNode(client: KubeClient): Promise<void> {
  try {
    await client.request({
      method: 'POST',
      path: '/api/v1/nodes',
      body: { apiVersion: 'v1', kind: 'Node', metadata: { name: SANDBOX_NODE, labels: { 'kubernetes.io/hostname': SANDBOX_NODE } } },
    });
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 409)) throw err;
  }
}
