/**
 * The real cluster's storage: a small local-path provisioner, run as one of the cluster's processes.
 *
 *   node provisioner-main.js <kubeconfig> <volumes-dir>
 *
 * For every PersistentVolumeClaim of the `pgha-local` StorageClass (WaitForFirstConsumer) whose Pod the scheduler has
 * placed, it creates a hostPath PersistentVolume bound to that claim (a directory under <volumes-dir>, mode 0777 as local-path-provisioner makes them, because hostPath
 * volumes get no fsGroup handling); the controller-manager's binder completes the binding. A released volume whose
 * reclaim policy is Delete is removed with its directory. All nodes share this machine's filesystem, so a volume is
 * usable from any node, as network storage would be.
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient } from '../../agent/src/kube/kube-client';
import { kubeConfigConnection } from '../../agent/src/kube/kube-connection';
import { KubeApiError } from '../../agent/src/kube/kube-error';
import { ApiServerPool } from '../../agent/src/kube/api-server-pool';
import { type KubeObject, ObjectCache } from '../../agent/src/kube/object-cache';
import { jsonLogger } from '../../agent/src/log/logger';
import { PROVISIONER, STORAGE_CLASS } from './storage';

/** Set by the scheduler on a claim of a WaitForFirstConsumer class once it picked the Pod's node. */
const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

interface Claim extends KubeObject {
  readonly spec: { storageClassName?: string; volumeName?: string; accessModes?: string[]; resources?: { requests?: { storage?: string } } };
  readonly status?: { phase?: string };
}

interface Volume extends KubeObject {
  readonly spec: { persistentVolumeReclaimPolicy?: string; hostPath?: { path: string } };
  readonly status?: { phase?: string };
}

function main(kubeconfig: string, volumesDir: string): void {
  const log = jsonLogger().child('provisioner');
  const client = new KubeClient(kubeConfigConnection(kubeconfig));
  const pool = new ApiServerPool({ client, logger: log, enabled: false, refreshEveryMs: 10_000, requestTimeoutMs: 5_000 });
  const busy = new Set<string>();

  const provision = async (claim: Claim) => {
    const ns = claim.metadata.namespace!;
    const name = `pvc-${claim.metadata.uid}`;
    const path = join(volumesDir, `${ns}-${claim.metadata.name}-${claim.metadata.uid!.slice(0, 8)}`);
    mkdirSync(path, { recursive: true });
    chmodSync(path, 0o777);
    const body = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER } },
      spec: {
        capacity: { storage: claim.spec.resources?.requests?.storage ?? '1Gi' },
        accessModes: claim.spec.accessModes ?? ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Delete',
        storageClassName: STORAGE_CLASS,
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: claim.metadata.name, uid: claim.metadata.uid },
        hostPath: { path, type: 'DirectoryOrCreate' },
      },
    };
    try {
      await client.request({ method: 'POST', path: '/api/v1/persistentvolumes', body });
      log.info('volume provisioned', { claim: `${ns}/${claim.metadata.name}`, volume: name, path });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409)) throw err;
    }
  };

  const reclaim = async (volume: Volume) => {
    const path = volume.spec.hostPath?.path;
    if (path?.startsWith(volumesDir)) rmSync(path, { recursive: true, force: true });
    try {
      await client.request({ method: 'DELETE', path: `/api/v1/persistentvolumes/${volume.metadata.name}` });
      log.info('volume deleted', { volume: volume.metadata.name, path });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    }
  };

  const once = (key: string, fn: () => Promise<void>) => {
    if (busy.has(key)) return;
    busy.add(key);
    fn()
      .catch((err: unknown) => log.error('provisioner action failed', { key, error: String(err) }))
      .finally(() => busy.delete(key));
  };

  // Every change, and every few seconds in case an action failed, looks at the whole picture again.
  const check = () => {
    for (const claim of claims.values()) {
      if (claim.spec.storageClassName !== STORAGE_CLASS || claim.spec.volumeName || claim.status?.phase !== 'Pending') continue;
      if (!claim.metadata.annotations?.[SELECTED_NODE]) continue;
      once(`claim/${claim.metadata.uid}`, () => provision(claim));
    }
    for (const v of volumes.values()) {
      if (v.metadata.annotations?.['pv.kubernetes.io/provisioned-by'] !== PROVISIONER) continue;
      if (v.status?.phase === 'Released' && v.spec.persistentVolumeReclaimPolicy === 'Delete') once(`volume/${v.metadata.name}`, () => reclaim(v));
    }
  };
  const cache = <T extends KubeObject>(path: string) =>
    new ObjectCache<T>({ client, pool, logger: log, path, labelSelector: '', listTimeoutMs: 10_000, onChange: () => setImmediate(check) });
  const claims = cache<Claim>('/api/v1/persistentvolumeclaims');
  const volumes = cache<Volume>('/api/v1/persistentvolumes');
  claims.start();
  volumes.start();
  setInterval(check, 3_000);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
}

const [kubeconfig, volumesDir] = process.argv.slice(2);
if (!kubeconfig || !volumesDir) {
  process.stderr.write('usage: provisioner-main <kubeconfig> <volumes-dir>\n');
  process.exit(2);
}
main(kubeconfig, volumesDir);
