import type { Clock } from '../clock';
import { ConflictError } from '../errors';
import { type KubeRequest, STRATEGIC_MERGE_PATCH } from '../kube/kube-client';
import { KubeApiError } from '../kube/kube-error';
import type { KubeObject, ObjectCache } from '../kube/object-cache';
import type { StoreLayout } from './layout';
import type { Pod, Subset } from './leader-endpoints';
import type { StatusContext } from './member-status';
import type { StorePaths } from './store-paths';
import type { StoreRequests } from './store-requests';

export interface StoreObject extends KubeObject {
  readonly subsets?: readonly Subset[];
}

/** The cluster objects besides the lock, by their role in the layout. */
export type ClusterObjectKey = 'leader' | 'config' | 'failover' | 'sync';

/**
 * The store's writes other than the lock's: the initialize race on `<scope>-config`, annotation writes on the
 * cluster objects (configuration, failover, sync, history), and taking the leader label off a former leader's Pod.
 * Every write is conditional where a lost race matters, and its answer goes into the cache.
 */
export class ClusterObjectWrites {
  constructor(
    private readonly p: {
      readonly requests: StoreRequests;
      readonly paths: StorePaths;
      readonly layout: StoreLayout;
      readonly labels: Readonly<Record<string, string>>;
      readonly objects: ObjectCache<StoreObject>;
      readonly pods: ObjectCache<Pod>;
      readonly status: StatusContext;
      readonly clock: Clock;
      readonly retryTimeoutMs: number;
    },
  ) {}

  /**
   * After a takeover: takes the leader role label off the previous holder's Pod, so the primary Service stops
   * sending new connections there even when that member is frozen or its node is gone (its established connections
   * end when its PostgreSQL is fenced). Conditional on the Pod's resourceVersion: if the member changed its Pod
   * meanwhile it is alive and labels itself, and its write wins.
   */
  async unlabelFormerLeader(previous: string, budgetMs: number): Promise<'removed' | 'not-labelled' | 'changed' | 'gone'> {
    const { roleLabel, leaderLabelValue, tmpRoleLabel } = this.p.status;
    const pod = this.p.pods.get(previous);
    if (!pod) return 'gone';
    const labels = pod.metadata.labels ?? {};
    const keys = [roleLabel, ...(tmpRoleLabel ? [tmpRoleLabel] : [])].filter((k) => labels[k] === leaderLabelValue);
    if (keys.length === 0) return 'not-labelled';
    try {
      const res = await this.p.requests.call<Pod>(
        {
          method: 'PATCH',
          path: this.p.paths.pod(previous),
          contentType: STRATEGIC_MERGE_PATCH,
          body: { metadata: { resourceVersion: pod.metadata.resourceVersion, labels: Object.fromEntries(keys.map((k) => [k, null])) } },
        },
        budgetMs,
      );
      this.p.pods.applyWrite(res.body);
      return 'removed';
    } catch (err) {
      if (err instanceof ConflictError) return 'changed';
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof KubeApiError && cause.status === 404) return 'gone';
      throw err;
    }
  }

  /**
   * The initialize race: the member that creates `<scope>-config` with `initialize=""` (or sets it on an existing
   * object without it, conditionally) bootstraps the cluster. Returns whether we won.
   */
  async claimInitialize(budgetMs = this.p.retryTimeoutMs): Promise<boolean> {
    const current = this.p.objects.get(this.p.layout.config);
    if (current?.metadata.annotations?.initialize !== undefined) return false;
    const annotations = { initialize: '' };
    const req: KubeRequest = current
      ? {
          method: 'PATCH',
          path: this.p.paths.object(this.p.layout.config),
          contentType: STRATEGIC_MERGE_PATCH,
          body: { metadata: { resourceVersion: current.metadata.resourceVersion, labels: this.p.labels, annotations } },
        }
      : { method: 'POST', path: this.p.paths.collection(), body: this.p.paths.newObject(this.p.layout.config, annotations) };
    try {
      const res = await this.p.requests.call<StoreObject>(req, budgetMs);
      this.p.objects.applyWrite(res.body);
      return true;
    } catch (err) {
      if (err instanceof ConflictError) return false;
      throw err;
    }
  }

  /**
   * Gives the initialize race back after a failed bootstrap, so another member (or this one, later) may try: removes
   * `initialize` while it is still `""`, reading the object from the API (the cache may not show our claim yet) and
   * again after a conflict, until the budget is spent. False when someone recorded a cluster meanwhile.
   */
  async releaseInitialize(budgetMs = this.p.retryTimeoutMs): Promise<boolean> {
    const path = this.p.paths.object(this.p.layout.config);
    const deadline = this.p.clock.monotonicMs() + budgetMs;
    for (;;) {
      const left = () => deadline - this.p.clock.monotonicMs();
      const current = await this.p.requests.call<StoreObject>({ method: 'GET', path }, left());
      this.p.objects.applyWrite(current.body);
      if (current.body.metadata.annotations?.initialize !== '') return false;
      try {
        const res = await this.p.requests.call<StoreObject>(
          {
            method: 'PATCH',
            path,
            contentType: STRATEGIC_MERGE_PATCH,
            body: { metadata: { resourceVersion: current.body.metadata.resourceVersion, annotations: { initialize: null } } },
          },
          left(),
        );
        this.p.objects.applyWrite(res.body);
        return true;
      } catch (err) {
        if (!(err instanceof ConflictError) || left() <= 0) throw err;
      }
    }
  }

  /** Records the initialized cluster's system identifier on `<scope>-config`, conditionally. */
  async setInitialized(sysid: string, budgetMs = this.p.retryTimeoutMs): Promise<boolean> {
    const current = this.p.objects.get(this.p.layout.config);
    if (!current) return false;
    try {
      const res = await this.p.requests.call<StoreObject>(
        {
          method: 'PATCH',
          path: this.p.paths.object(this.p.layout.config),
          contentType: STRATEGIC_MERGE_PATCH,
          body: { metadata: { resourceVersion: current.metadata.resourceVersion, annotations: { initialize: sysid } } },
        },
        budgetMs,
      );
      this.p.objects.applyWrite(res.body);
      return true;
    } catch (err) {
      if (err instanceof ConflictError) return false;
      throw err;
    }
  }

  /**
   * Sets annotations (null deletes) on a cluster object, conditional on `version` when given; creates it when it does
   * not exist. A ConflictError means someone changed it first.
   */
  async patchObject(
    key: ClusterObjectKey,
    annotations: Readonly<Record<string, string | null>>,
    version: string | undefined,
    budgetMs = this.p.retryTimeoutMs,
  ): Promise<KubeObject> {
    const name = this.p.layout[key];
    const req: KubeRequest = this.p.objects.get(name)
      ? {
          method: 'PATCH',
          path: this.p.paths.object(name),
          contentType: STRATEGIC_MERGE_PATCH,
          body: { metadata: { ...(version ? { resourceVersion: version } : {}), labels: this.p.labels, annotations } },
        }
      : { method: 'POST', path: this.p.paths.collection(), body: this.p.paths.newObject(name, annotations) };
    const res = await this.p.requests.call<StoreObject>(req, budgetMs);
    this.p.objects.applyWrite(res.body);
    return res.body;
  }
}
