/**
 * The cluster commands' access to Kubernetes: one consistent read of the cluster's objects, the compare-and-swap
 * write of the dynamic configuration (as `patronictl edit-config` does) and the `<scope>-failover` write (what
 * patronictl does when a member's REST API cannot take a switchover).
 */
import { KubeApiError } from '../kube/kube-error';
import { type KubeClient, STRATEGIC_MERGE_PATCH } from '../kube/kube-client';
import { labelSelector, storeLayout, type StoreLayout } from '../store/layout';
import type { ClusterObjects, ObjectMeta } from './cluster-view';
import type { CtlTarget } from './ctl-target';

/** The Kubernetes API could not be reached or refused us: exit code 4 rather than 1. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
}

/** The configuration changed between our read and our write. */
export class ConfigConflictError extends Error {
  override readonly name = 'ConfigConflictError';
}

const REQUEST_TIMEOUT_MS = 10_000;

export class ClusterClient {
  readonly layout: StoreLayout;

  constructor(
    private readonly client: KubeClient,
    private readonly target: CtlTarget,
  ) {
    this.layout = storeLayout(target.scope, target.useEndpoints);
  }

  private path(resource: string, name?: string): string {
    return `/api/v1/namespaces/${this.target.namespace}/${resource}${name ? `/${name}` : ''}`;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof KubeApiError && err.status !== 401 && err.status !== 403 && err.status < 500) throw err;
      const what =
        err instanceof KubeApiError
          ? err.message
          : `cannot reach the Kubernetes API at ${this.target.connection.server}: ${err instanceof Error ? err.message : String(err)}`;
      throw new UnreachableError(what, { cause: err });
    }
  }

  private async getOptional(name: string): Promise<ObjectMeta | undefined> {
    try {
      return (
        await this.call(() => this.client.request<ObjectMeta>({ method: 'GET', path: this.path(this.layout.resource, name), timeoutMs: REQUEST_TIMEOUT_MS }))
      ).body;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Reads the Pods and the four state objects. */
  async read(): Promise<ClusterObjects> {
    const [pods, leader, config, sync, failover] = await Promise.all([
      this.call(() =>
        this.client.request<{ items: ObjectMeta[] }>({
          method: 'GET',
          path: this.path('pods'),
          query: { labelSelector: labelSelector(this.target.selectorLabels) },
          timeoutMs: REQUEST_TIMEOUT_MS,
        }),
      ),
      this.getOptional(this.layout.leader),
      this.getOptional(this.layout.config),
      this.getOptional(this.layout.sync),
      this.getOptional(this.layout.failover),
    ]);
    return { scope: this.target.scope, pods: pods.body.items, leader, config, sync, failover };
  }

  /** The lock holder now, or undefined when nobody holds it. */
  async lockHolder(): Promise<string | undefined> {
    const leader = await this.getOptional(this.layout.leader);
    return leader?.metadata.annotations?.leader || undefined;
  }

  /** Writes the whole `config` annotation, conditional on the `-config` object's resourceVersion. */
  async writeConfig(config: Readonly<Record<string, unknown>>, resourceVersion: string | undefined): Promise<void> {
    const annotations = { config: JSON.stringify(config) };
    try {
      await this.call(() =>
        resourceVersion
          ? this.client.request({
              method: 'PATCH',
              path: this.path(this.layout.resource, this.layout.config),
              contentType: STRATEGIC_MERGE_PATCH,
              body: { metadata: { resourceVersion, labels: this.target.selectorLabels, annotations } },
              timeoutMs: REQUEST_TIMEOUT_MS,
            })
          : this.client.request({
              method: 'POST',
              path: this.path(this.layout.resource),
              body: this.newObject(this.layout.config, annotations),
              timeoutMs: REQUEST_TIMEOUT_MS,
            }),
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409)
        throw new ConfigConflictError('the configuration changed while we were editing it; read it again and retry', { cause: err });
      throw err;
    }
  }

  /** Sets the failover key (`leader`, `member`, `scheduled_at`; absent fields are cleared), creating it if needed. */
  async writeFailover(value: { leader?: string; member?: string; scheduledAt?: string }): Promise<void> {
    const annotations = { leader: value.leader ?? null, member: value.member ?? null, scheduled_at: value.scheduledAt ?? null };
    const patch = () =>
      this.client.request({
        method: 'PATCH',
        path: this.path(this.layout.resource, this.layout.failover),
        contentType: STRATEGIC_MERGE_PATCH,
        body: { metadata: { labels: this.target.selectorLabels, annotations } },
        timeoutMs: REQUEST_TIMEOUT_MS,
      });
    try {
      await this.call(patch);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
      const present = Object.fromEntries(Object.entries(annotations).filter(([, v]) => v !== null)) as Record<string, string>;
      try {
        await this.call(() =>
          this.client.request({
            method: 'POST',
            path: this.path(this.layout.resource),
            body: this.newObject(this.layout.failover, present),
            timeoutMs: REQUEST_TIMEOUT_MS,
          }),
        );
      } catch (createErr) {
        // Someone created it between our two calls: patch the one that exists.
        if (createErr instanceof KubeApiError && createErr.status === 409) await this.call(patch);
        else throw createErr;
      }
    }
  }

  private newObject(name: string, annotations: Record<string, string>): Record<string, unknown> {
    return {
      apiVersion: 'v1',
      kind: this.layout.resource === 'endpoints' ? 'Endpoints' : 'ConfigMap',
      metadata: { name, namespace: this.target.namespace, labels: this.target.selectorLabels, annotations },
    };
  }
}
