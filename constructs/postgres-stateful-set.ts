import { createHash } from 'node:crypto';
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import {
  API_PORT,
  API_PORT_NAME,
  CONFIG_DIR,
  CONFIG_FILE_NAME,
  CREDENTIALS_DIR,
  DATA_MOUNT,
  passwordFileEnv,
  POSTGRES_PORT,
  POSTGRES_PORT_NAME,
} from './agent-config-file';
import { AntiAffinity, Persistence, Platform } from './cluster-props';
import type { ClusterSpec } from './cluster-spec';
import { objectLabels, podLabels, podSelector } from './labels';

/**
 * The image's own numeric user (its `USER 26:0`), set as runAsUser, runAsGroup and fsGroup outside OpenShift. Any
 * UID works: the image's entrypoint gives one without a passwd entry an entry through nss_wrapper.
 */
export const POSTGRES_UID = 26;

export interface PostgresStatefulSetOptions {
  readonly serviceAccountName: string;
  readonly governingServiceName: string;
  readonly configMapName: string;
  /** The member configuration file's text: its digest on the Pod template rolls the members when it changes. */
  readonly configText: string;
}

/** Pod-template annotation carrying the digest of the member configuration file. */
export const CONFIG_DIGEST_ANNOTATION = 'pgha.io/config-sha256';

/**
 * The liveness probe's timing for a ttl: three misses a third of ttl apart, so a frozen agent is restarted about ttl
 * after it stopped answering. `/liveness` answers from memory, so two seconds is ample even on a busy node.
 */
export function livenessTiming(ttl: number): { periodSeconds: number; timeoutSeconds: number; failureThreshold: number } {
  return { periodSeconds: Math.max(1, Math.floor(ttl / 3)), timeoutSeconds: 2, failureThreshold: 3 };
}

function fieldEnv(name: string, fieldPath: string) {
  return { name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } };
}

function affinity(spec: ClusterSpec): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const term = { labelSelector: { matchLabels: podSelector(spec) }, topologyKey: 'kubernetes.io/hostname' };
  if (spec.antiAffinity === AntiAffinity.REQUIRED) out.podAntiAffinity = { requiredDuringSchedulingIgnoredDuringExecution: [term] };
  if (spec.antiAffinity === AntiAffinity.PREFERRED) {
    out.podAntiAffinity = { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] };
  }
  if (spec.dedicatedNodes) {
    // A taint keeps other Pods off the nodes; this rule keeps the members on them.
    out.nodeAffinity = {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: spec.dedicatedNodes.key, operator: 'In', values: [spec.dedicatedNodes.value] }] }],
      },
    };
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * The members: one StatefulSet whose Pods run the agent, which runs PostgreSQL. Every Pod passes Pod Security
 * `restricted`; on OpenShift no fixed user or fsGroup is set so the SCC can assign them.
 */
export class PostgresStatefulSet extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, spec: ClusterSpec, options: PostgresStatefulSetOptions) {
    super(scope, id);
    this.name = spec.name;
    const openshift = spec.platform === Platform.OPENSHIFT;
    const persistent = spec.persistence === Persistence.PERSISTENT;

    const container = {
      name: 'pgha',
      image: spec.image,
      imagePullPolicy: 'IfNotPresent',
      // `args`, never `command`: the image's ENTRYPOINT (tini as PID 1, then the entrypoint that gives an arbitrary
      // UID a passwd entry) must run, or initdb cannot look up its user.
      args: ['agent', '--config', `${CONFIG_DIR}/${CONFIG_FILE_NAME}`],
      ports: [
        { name: POSTGRES_PORT_NAME, containerPort: POSTGRES_PORT, protocol: 'TCP' },
        { name: API_PORT_NAME, containerPort: API_PORT, protocol: 'TCP' },
      ],
      env: [
        fieldEnv('PATRONI_NAME', 'metadata.name'),
        fieldEnv('PATRONI_KUBERNETES_NAMESPACE', 'metadata.namespace'),
        fieldEnv('PATRONI_KUBERNETES_POD_IP', 'status.podIP'),
        // Paths, not passwords: the agent (and `pgha` run in the Pod) reads the files from the mounted Secret.
        ...Object.entries(passwordFileEnv(spec)).map(([name, value]) => ({ name, value })),
        // `kubectl exec <pod> -- pgha list` (or patronictl) finds the cluster from the member's own file.
        { name: 'PATRONICTL_CONFIG_FILE', value: `${CONFIG_DIR}/${CONFIG_FILE_NAME}` },
      ],
      resources: {
        requests: { cpu: spec.cpuRequest, memory: spec.memoryRequest },
        limits: { memory: spec.memoryLimit, ...(spec.cpuLimit ? { cpu: spec.cpuLimit } : {}) },
      },
      // Readiness: the leader, or a replica streaming within the lag limit. Liveness: the HA loop is still turning.
      readinessProbe: {
        httpGet: { path: '/readiness', port: API_PORT_NAME, scheme: 'HTTP' },
        initialDelaySeconds: 3,
        periodSeconds: 10,
        timeoutSeconds: 5,
        failureThreshold: 3,
      },
      // Liveness restarts an agent that stopped turning its loop (frozen, stuck); it is timed from ttl so a frozen
      // agent is restarted about ttl after it stopped answering. It is not what fences a frozen leader: the fence
      // watchdog beside the agent stops its PostgreSQL at the lease deadline, without waiting for the kubelet.
      livenessProbe: { httpGet: { path: '/liveness', port: API_PORT_NAME, scheme: 'HTTP' }, initialDelaySeconds: spec.ttl, ...livenessTiming(spec.ttl) },
      securityContext: {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      volumeMounts: [
        { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
        { name: 'credentials', mountPath: CREDENTIALS_DIR, readOnly: true },
        { name: 'data', mountPath: DATA_MOUNT },
        { name: 'tmp', mountPath: '/tmp' },
      ],
    };

    const podSecurityContext = openshift
      ? { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }
      : {
          runAsNonRoot: true,
          runAsUser: POSTGRES_UID,
          runAsGroup: POSTGRES_UID,
          fsGroup: POSTGRES_UID,
          fsGroupChangePolicy: 'OnRootMismatch',
          seccompProfile: { type: 'RuntimeDefault' },
        };

    const volumes: Record<string, unknown>[] = [
      { name: 'config', configMap: { name: options.configMapName, defaultMode: 0o444 } },
      // Group-readable: the kubelet gives the files to the Pod's fsGroup (set by us, or by the SCC on OpenShift).
      { name: 'credentials', secret: { secretName: spec.credentialsSecretName, defaultMode: 0o440 } },
      { name: 'tmp', emptyDir: {} },
    ];
    if (!persistent) volumes.push({ name: 'data', emptyDir: {} });

    const tolerations = spec.dedicatedNodes
      ? [{ key: spec.dedicatedNodes.key, operator: 'Equal', value: spec.dedicatedNodes.value, effect: 'NoSchedule' }]
      : undefined;

    new ApiObject(this, 'Resource', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: spec.name, labels: objectLabels(spec, 'database'), ...(spec.namespace ? { namespace: spec.namespace } : {}) },
      spec: {
        replicas: spec.replicas,
        serviceName: options.governingServiceName,
        // Members may start together: the agent's initialize race picks one to bootstrap.
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        selector: { matchLabels: podSelector(spec) },
        ...(persistent ? { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' } } : {}),
        template: {
          // The agent reads its file at start: a changed file must restart the members, one at a time.
          metadata: { labels: podLabels(spec), annotations: { [CONFIG_DIGEST_ANNOTATION]: createHash('sha256').update(options.configText).digest('hex') } },
          spec: {
            serviceAccountName: options.serviceAccountName,
            automountServiceAccountToken: true,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: spec.terminationGracePeriod,
            securityContext: podSecurityContext,
            affinity: affinity(spec),
            tolerations,
            containers: [container],
            volumes,
          },
        },
        volumeClaimTemplates: persistent
          ? [
              {
                metadata: { name: 'data', labels: objectLabels(spec, 'database') },
                spec: {
                  accessModes: [spec.storageAccessMode],
                  resources: { requests: { storage: spec.storageSize } },
                  ...(spec.storageClassName ? { storageClassName: spec.storageClassName } : {}),
                },
              },
            ]
          : undefined,
      },
    });
  }
}
