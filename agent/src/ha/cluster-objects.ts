import type { KubeObject } from '../kube/object-cache';
import type { ClusterObjectKey } from '../store/kube-store';

/**
 * What the HA service needs from the store besides the lock: the cached cluster objects and member Pods, the
 * initialize race, and annotation writes. `KubeStore` implements it.
 */
export interface ClusterObjects {
  object(key: ClusterObjectKey): KubeObject | undefined;
  podObjects(): readonly KubeObject[];
  claimInitialize(): Promise<boolean>;
  /** Gives a claimed initialize race back (bootstrap failed); false when a cluster was recorded meanwhile. */
  releaseInitialize(): Promise<boolean>;
  /** Null deletes an annotation; `version` makes the write conditional (ConflictError on a lost race). */
  patchObject(key: ClusterObjectKey, annotations: Readonly<Record<string, string | null>>, version: string | undefined, budgetMs?: number): Promise<KubeObject>;
}
