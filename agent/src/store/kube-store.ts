import type { Clock } from '../clock';
import type { LockBasis } from '../core/actions';
import type { LockView, MemberStatus, MemberView } from '../core/model';
import { ConflictError } from '../errors';
import type { ApiServerPool } from '../kube/api-server-pool';
import { type KubeClient, type KubeRequest, STRATEGIC_MERGE_PATCH } from '../kube/kube-client';
import { KubeApiError } from '../kube/kube-error';
import { type CacheChange, type KubeObject, ObjectCache } from '../kube/object-cache';
import { errorFields, type Logger } from '../log/logger';
import type { ClusterStore, LockWriteResult } from '../loop/ports';
import { clusterLabels, labelSelector, lockTimestamp, lockTuple, readFailsafe, readLockRecord, type StoreLayout, storeLayout } from './layout';
import { leaderSubsets, type Pod, sameSubsets, type Subset } from './leader-endpoints';
import { parseMemberStatus, podStatusPatch, publishedStatus, type StatusContext } from './member-status';
import { type ClusterObjectKey, ClusterObjectWrites, type StoreObject } from './cluster-object-writes';
import { StorePaths } from './store-paths';
import { StoreRequests } from './store-requests';

export type { ClusterObjectKey } from './cluster-object-writes';

export interface KubeStoreProps {
  readonly client: KubeClient;
  readonly pool: ApiServerPool;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly namespace: string;
  readonly scope: string;
  /** This member's name (= its Pod's name). */
  readonly name: string;
  readonly ttlSeconds: number;
  /** The ttl in force now when it can change at run time (dynamic configuration). @default - `ttlSeconds` */
  readonly ttl?: () => number;
  readonly retryTimeoutMs: number;
  readonly useEndpoints: boolean;
  readonly scopeLabel: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly podIp?: string;
  readonly ports: readonly { readonly name?: string; readonly port: number }[];
  readonly retriableHttpCodes: readonly number[];
  readonly status: StatusContext;
  /** Called when the leader object changes (any field); the loop runs at once. */
  readonly onLockChange: () => void;
  /** Called when the caches become ready. */
  readonly onReady: () => void;
  /** Annotations every lock write carries besides the lock itself (Patroni's `optime`, `failsafe`); `null` removes one. */
  readonly lockAnnotations?: () => Readonly<Record<string, string | null>>;
  /** Called when `<scope>-config`, `-failover` or `-sync` changes, or what the holder's Pod says about it (from the watches). */
  readonly onClusterObjectChange?: () => void;
}

const LOCK_FIELDS = ['leader', 'acquireTime', 'renewTime', 'ttl', 'transitions'] as const;

/** Same lock annotations as we wrote (the check for a retried write that had in fact landed). */
function sameLock(obj: KubeObject | undefined, written: Readonly<Record<string, string | null>>): boolean {
  const a = obj?.metadata.annotations ?? {};
  return LOCK_FIELDS.every((k) => (a[k] ?? null) === (written[k] ?? null));
}

/**
 * The cluster state on Kubernetes, in Patroni's layout (see `layout.ts`). Two watched caches (the lock/config
 * kind and the Pods, both with the cluster selector) serve every read; writes are conditional on resourceVersion
 * inside a strategic-merge patch body, retried within the budget on transient failures, and a 409 is the
 * expected answer to a lost race.
 */
export class KubeStore implements ClusterStore {
  private readonly layout: StoreLayout;
  private readonly objects: ObjectCache<StoreObject>;
  private readonly pods: ObjectCache<Pod>;
  private readonly log: Logger;
  private readonly labels: Record<string, string>;
  private readonly requests: StoreRequests;
  private readonly paths: StorePaths;
  private readonly writes: ClusterObjectWrites;
  private lockSeen = { tuple: '', at: 0 };
  /** Annotations of the lock object as last seen while it existed; kept when it is deleted (see `lock()`). */
  private lastLockAnnotations: Readonly<Record<string, string>> | undefined;
  private writtenTopology: Readonly<Record<string, string>> = {};
  private readonly reported = new Set<string>();

  constructor(private readonly props: KubeStoreProps) {
    this.layout = storeLayout(props.scope, props.useEndpoints);
    this.log = props.logger;
    this.labels = clusterLabels(props.scopeLabel, props.scope, props.labels);
    this.requests = new StoreRequests({
      client: props.client,
      pool: props.pool,
      clock: props.clock,
      logger: props.logger,
      retriableHttpCodes: props.retriableHttpCodes,
    });
    this.paths = new StorePaths({ namespace: props.namespace, layout: this.layout, labels: this.labels, useEndpoints: props.useEndpoints });
    this.lockSeen = { tuple: lockTuple(undefined), at: props.clock.monotonicMs() };
    const selector = labelSelector(this.labels);
    const base = `/api/v1/namespaces/${props.namespace}`;
    let pending = 2;
    const onReady = () => {
      if (--pending === 0) props.onReady();
    };
    // Watches keep ObjectCache's defaults. They last half an hour, as long as the API server's own limit (Patroni sets none), so a quiet cluster
    // costs the server its renewals and little else. The lock object's stream carries the leader's renewal every
    // loop_wait; the Pods' stream may be quiet for minutes. A stream silent for the server's bookmark period plus
    // retry_timeout is resumed on a fresh connection, so one whose packets are silently dropped is noticed then
    // (Patroni's TCP keepalive gives up after ttl). No decision waits on it: a lock that stops changing expires in
    // the HA loop's eyes after ttl all the same, and the write that follows reads the object directly on its 409.
    const common = {
      client: props.client,
      pool: props.pool,
      labelSelector: selector,
      listTimeoutMs: props.retryTimeoutMs,
      now: () => props.clock.monotonicMs(),
      onReady,
      onContact: () => this.requests.touch(),
    };
    this.objects = new ObjectCache<StoreObject>({
      ...common,
      logger: props.logger.child('cache', { kind: this.layout.resource }),
      path: `${base}/${this.layout.resource}`,
      onChange: (c) => this.onObjectChange(c),
    });
    this.pods = new ObjectCache<Pod>({
      ...common,
      logger: props.logger.child('cache', { kind: 'pods' }),
      path: `${base}/pods`,
      onChange: (c) => this.onPodChange(c),
    });
    this.writes = new ClusterObjectWrites({
      requests: this.requests,
      paths: this.paths,
      layout: this.layout,
      labels: this.labels,
      objects: this.objects,
      pods: this.pods,
      status: props.status,
      clock: props.clock,
      retryTimeoutMs: props.retryTimeoutMs,
    });
  }

  get ready(): boolean {
    return this.objects.ready && this.pods.ready;
  }

  /** When the API last answered us (Patroni's `dcs_last_seen`); undefined before the first answer. */
  lastApiContact(): Date | undefined {
    return this.requests.lastContact;
  }

  async start(): Promise<void> {
    await this.props.pool.refresh();
    if (this.props.useEndpoints) await this.ensureConfigService();
    this.objects.start();
    this.pods.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.objects.stop(), this.pods.stop()]);
  }

  refresh(signal: AbortSignal): Promise<void> {
    return this.props.pool.refresh(signal);
  }

  /**
   * The lock as last seen. A lock object deleted by someone else keeps naming its last holder, valid for ttl from
   * when we saw the deletion: the holder may still be acting as leader, and a deletion carries no version for a
   * conditional write to protect. The holder itself re-creates it on its next renew; others create it only once
   * that ttl has passed. (A node that starts after the deletion cannot know the holder and sees a free lock.)
   */
  lock(): LockView {
    const obj = this.objects.get(this.layout.leader);
    const record = readLockRecord(obj ? obj.metadata.annotations : this.lastLockAnnotations);
    return {
      version: obj?.metadata.resourceVersion ?? null,
      holder: record.holder,
      ttlMs: (record.ttlSeconds ?? this.ttlSeconds()) * 1000,
      transitions: record.transitions,
      acquireTime: record.acquireTime,
      observedAt: this.lockSeen.at,
      failsafe: record.failsafe,
    };
  }

  /**
   * The failsafe topologies our lock writes since the last confirmed one may have stored (see
   * `SelfView.failsafeWritten`): a write whose answer never came may have landed.
   */
  failsafeWritten(): Readonly<Record<string, string>> {
    return this.writtenTopology;
  }

  members(): MemberView[] {
    return this.pods.values().map((pod) => ({ name: pod.metadata.name, status: parseMemberStatus(pod.metadata.annotations?.status) }));
  }

  ownPublished(): MemberStatus | 'other' | null {
    const pod = this.pods.get(this.props.name);
    return pod ? publishedStatus(pod, this.props.status) : null;
  }

  acquire(basis: LockBasis, budgetMs: number, ttlSeconds: number): Promise<LockWriteResult> {
    const me = this.props.name;
    const ts = lockTimestamp(this.props.clock.wallTime());
    const mine = basis.holder === me;
    return this.writeLock('acquire', basis, budgetMs, {
      ...this.props.lockAnnotations?.(),
      leader: me,
      // A re-acquire of our own lock keeps its acquireTime and transitions; a change of holder counts one more.
      acquireTime: mine && basis.acquireTime ? basis.acquireTime : ts,
      renewTime: ts,
      ttl: String(ttlSeconds),
      transitions: String(mine ? basis.transitions : basis.transitions + 1),
    });
  }

  renew(basis: LockBasis, budgetMs: number, ttlSeconds: number): Promise<LockWriteResult> {
    const ts = lockTimestamp(this.props.clock.wallTime());
    return this.writeLock('renew', basis, budgetMs, {
      ...this.props.lockAnnotations?.(),
      leader: this.props.name,
      acquireTime: basis.acquireTime ?? ts,
      renewTime: ts,
      ttl: String(ttlSeconds),
      transitions: String(basis.transitions),
    });
  }

  release(basis: LockBasis, budgetMs: number): Promise<LockWriteResult> {
    return this.writeLock('release', basis, budgetMs, { ...this.props.lockAnnotations?.(), leader: null });
  }

  async publish(status: MemberStatus, budgetMs: number): Promise<void> {
    try {
      const res = await this.requests.call<Pod>(
        { method: 'PATCH', path: this.paths.pod(this.props.name), contentType: STRATEGIC_MERGE_PATCH, body: podStatusPatch(status, this.props.status) },
        budgetMs,
      );
      this.pods.applyWrite(res.body);
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof KubeApiError && cause.status === 404) {
        this.pods.applyDelete(this.props.name);
        this.log.warn('own pod not found; status not published', { pod: this.props.name });
        return;
      }
      throw err;
    }
  }

  /** See ClusterObjectWrites. */
  unlabelFormerLeader(previous: string, budgetMs: number): ReturnType<ClusterObjectWrites['unlabelFormerLeader']> {
    return this.writes.unlabelFormerLeader(previous, budgetMs);
  }

  claimInitialize(budgetMs?: number): Promise<boolean> {
    return this.writes.claimInitialize(budgetMs);
  }

  releaseInitialize(budgetMs?: number): Promise<boolean> {
    return this.writes.releaseInitialize(budgetMs);
  }

  setInitialized(sysid: string, budgetMs?: number): Promise<boolean> {
    return this.writes.setInitialized(sysid, budgetMs);
  }

  patchObject(
    key: ClusterObjectKey,
    annotations: Readonly<Record<string, string | null>>,
    version: string | undefined,
    budgetMs?: number,
  ): Promise<KubeObject> {
    return this.writes.patchObject(key, annotations, version, budgetMs);
  }

  private ttlSeconds(): number {
    return this.props.ttl?.() ?? this.props.ttlSeconds;
  }

  /** A cluster object from the cache. */
  object(key: ClusterObjectKey): KubeObject | undefined {
    return this.objects.get(this.layout[key]);
  }

  /** The member Pods from the cache. */
  podObjects(): readonly KubeObject[] {
    return this.pods.values();
  }

  // ---- internals ----

  /** Endpoints mode: the subsets a leader write carries, or undefined when they need no change. */
  private leaderSubsets(op: 'acquire' | 'renew' | 'release'): Subset[] | undefined {
    if (!this.props.useEndpoints) return undefined;
    let want: Subset[] = [];
    if (op !== 'release') {
      const found = leaderSubsets(this.pods.get(this.props.name), this.props.podIp, this.props.ports, this.props.namespace);
      if (!found) {
        this.reportOnce('no-pod-ip', 'no pod IP for the leader endpoints; set kubernetes.pod_ip', {});
        return undefined;
      }
      want = found;
    }
    return sameSubsets(this.objects.get(this.layout.leader)?.subsets, want) ? undefined : want;
  }

  private async writeLock(
    op: 'acquire' | 'renew' | 'release',
    basis: LockBasis,
    budgetMs: number,
    annotations: Record<string, string | null>,
  ): Promise<LockWriteResult> {
    const name = this.layout.leader;
    const started = this.props.clock.monotonicMs();
    const subsets = this.leaderSubsets(op);
    const request = (version: string | null): KubeRequest =>
      version === null
        ? {
            method: 'POST',
            path: this.paths.collection(),
            body: this.paths.newObject(name, annotations, subsets ?? (this.props.useEndpoints ? [] : undefined)),
          }
        : {
            method: 'PATCH',
            path: this.paths.object(name),
            contentType: STRATEGIC_MERGE_PATCH,
            // The resourceVersion in the body makes the patch conditional: a stale one gets 409.
            body: { metadata: { resourceVersion: version, labels: this.labels, annotations }, ...(subsets ? { subsets } : {}) },
          };
    const topology = annotations.failsafe ? (readFailsafe(annotations.failsafe, []) ?? {}) : {};
    this.writtenTopology = { ...this.writtenTopology, ...topology };
    let ambiguous = false;
    let version = basis.version;
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.requests.call<StoreObject>(
          request(version),
          budgetMs - (this.props.clock.monotonicMs() - started),
          () => (ambiguous = true),
          op === 'renew',
        );
        this.objects.applyWrite(res.body);
        this.writtenTopology = topology;
        return { outcome: 'written' };
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        // A conflict is the expected answer to a lost race. Read the object once: an earlier attempt of ours may
        // have landed (its answer lost), in which case the stored lock is exactly what we wrote.
        const current = await this.readLockObject(Math.max(1000, budgetMs - (this.props.clock.monotonicMs() - started)));
        if (current && op !== 'release' && sameLock(current, annotations)) return { outcome: 'written' };
        if (op === 'release' && (current?.metadata.annotations?.leader ?? '') === '') return { outcome: 'written' };
        const holder = current?.metadata.annotations?.leader || null;
        // A renew may try once more when the lock still names us and only its version moved (someone edited another
        // annotation): that write is still conditional, so it cannot overwrite another holder.
        const left = budgetMs - (this.props.clock.monotonicMs() - started);
        if (op === 'renew' && attempt === 0 && current && holder === this.props.name && current.metadata.resourceVersion !== version && left >= 500) {
          version = current.metadata.resourceVersion ?? null;
          continue;
        }
        this.log.info('lock write lost the race', { op, holder, ambiguous });
        return { outcome: 'conflict', holder };
      }
    }
  }

  /** Reads the lock object directly (after a 409) and puts the answer in the cache. */
  private async readLockObject(budgetMs: number): Promise<StoreObject | undefined> {
    try {
      const res = await this.requests.call<StoreObject>({ method: 'GET', path: this.paths.object(this.layout.leader) }, budgetMs);
      this.objects.applyWrite(res.body);
      if (!res.body.metadata.labels || Object.entries(this.labels).some(([k, v]) => res.body.metadata.labels?.[k] !== v)) {
        this.reportOnce(`unlabelled-${res.body.metadata.resourceVersion}`, 'lock object lacks the cluster labels; the watch cannot see it', {
          object: this.layout.leader,
        });
      }
      return res.body;
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof KubeApiError && cause.status === 404) {
        this.objects.applyDelete(this.layout.leader);
        return undefined;
      }
      throw err;
    }
  }

  private async ensureConfigService(): Promise<void> {
    // Without a Service, the control plane may garbage-collect the selector-less `<scope>-config` Endpoints.
    try {
      await this.props.client.request({
        method: 'POST',
        path: `/api/v1/namespaces/${this.props.namespace}/services`,
        server: this.props.pool.current(),
        timeoutMs: this.props.retryTimeoutMs,
        body: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: this.layout.config, namespace: this.props.namespace, labels: this.labels },
          spec: { clusterIP: 'None' },
        },
      });
    } catch (err) {
      if (err instanceof KubeApiError && (err.status === 409 || err.status === 403)) return;
      this.log.warn('config service not created', { service: this.layout.config, ...errorFields(err) });
    }
  }

  private onObjectChange(c: CacheChange<StoreObject>): void {
    if (c.name === this.layout.leader) {
      const tuple = c.object ? lockTuple(c.object.metadata.annotations) : lockTuple(undefined);
      if (tuple !== this.lockSeen.tuple) this.lockSeen = { tuple, at: c.receivedAt };
      if (c.object) this.lastLockAnnotations = c.object.metadata.annotations ?? {};
      if (c.object) {
        const problems = readLockRecord(c.object.metadata.annotations).problems;
        if (problems.length)
          this.reportOnce(`lock-${c.object.metadata.resourceVersion}`, 'lock annotations unreadable; using defaults', { object: c.name, problems });
      }
      // Our own writes need no wake-up: the loop that wrote them runs again by itself.
      if (c.source === 'watch') this.props.onLockChange();
      return;
    }
    if (c.source === 'watch' && (c.name === this.layout.config || c.name === this.layout.failover || c.name === this.layout.sync))
      this.props.onClusterObjectChange?.();
    if (c.name === this.layout.config && c.object?.metadata.annotations?.config !== undefined) {
      try {
        JSON.parse(c.object.metadata.annotations.config);
      } catch {
        this.reportOnce(`config-${c.object.metadata.resourceVersion}`, 'config annotation is not valid JSON; ignored', { object: c.name });
      }
    }
  }

  private onPodChange(c: CacheChange<Pod>): void {
    const raw = c.object?.metadata.annotations?.status;
    if (raw !== undefined && parseMemberStatus(raw) === null && c.name !== this.props.name) {
      this.reportOnce(`pod-${c.name}-${c.object?.metadata.resourceVersion}`, 'member status unreadable; member ignored', { pod: c.name });
    }
    // The holder's Pod tells the others where to stream from and when (running as a primary, past its post-promote
    // checkpoint): when that changes, the loop runs at once rather than at its next turn, so a new leader's
    // replicas re-point within moments of its promotion. Other Pod changes (positions, other members) wake nobody.
    const holder = this.lastLockAnnotations?.leader;
    // A new holder wakes the loop through the lock itself; here only a change to the same Pod's facts counts.
    if (c.source === 'watch' && holder && c.name === holder && c.name !== this.props.name) {
      if (upstreamFacts(raw) !== upstreamFacts(c.previous?.metadata.annotations?.status)) this.props.onClusterObjectChange?.();
    }
  }

  /** Logs a problem with data someone else wrote once per object version, so a bad value does not flood the log. */
  private reportOnce(key: string, msg: string, fields: Record<string, unknown>): void {
    if (this.reported.has(key)) return;
    if (this.reported.size > 1000) this.reported.clear();
    this.reported.add(key);
    this.log.warn(msg, fields);
  }
}

/** The status fields a follower's plan depends on: state, role, address and the post-promote checkpoint. */
function upstreamFacts(raw: string | undefined): string {
  if (raw === undefined) return '';
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    return JSON.stringify([v.state, v.role, v.conn_url, v.checkpoint_after_promote]);
  } catch {
    // Reported by onPodChange (member status unreadable); a change to it still wakes the loop.
    return 'unreadable';
  }
}
