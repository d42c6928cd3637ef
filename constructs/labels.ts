import type { ClusterSpec } from './cluster-spec';
import { PGHA_VERSION } from './image';

export const APP_NAME = 'pgha';

/**
 * Labels the agent adds to its own selector (`kubernetes.labels`), besides the scope label. Part of every
 * immutable selector, so they never change.
 */
export const SELECTOR_LABELS_WITHOUT_SCOPE: Readonly<Record<string, string>> = { 'app.kubernetes.io/name': APP_NAME };

/** The minimal, never-changing selector of the cluster's Pods: the scope label plus the app name. */
export function podSelector(spec: ClusterSpec): Record<string, string> {
  return { ...SELECTOR_LABELS_WITHOUT_SCOPE, [spec.scopeLabel]: spec.name };
}

/**
 * Metadata labels of every synthesized object. The scope label is deliberately absent: the agent lists ConfigMaps
 * (or Endpoints) by it, and an object we own must never show up in that list. Only Pods carry it.
 */
export function objectLabels(spec: ClusterSpec, component: string): Record<string, string> {
  return {
    ...spec.labels,
    'app.kubernetes.io/name': APP_NAME,
    'app.kubernetes.io/instance': spec.name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': APP_NAME,
  };
}

/**
 * The label a client Pod carries to reach PostgreSQL through the cluster's NetworkPolicy. Its value is the cluster
 * name; it does not depend on `scopeLabel`, so clients keep it when the cluster's own labels change.
 */
export const CLIENT_LABEL = 'pgha.io/client';

export function clientPodLabels(spec: ClusterSpec): Record<string, string> {
  return { [CLIENT_LABEL]: spec.name };
}

/** Pod template labels: the selector, the app.kubernetes.io set, and the version (which may change: not in selectors). */
export function podLabels(spec: ClusterSpec): Record<string, string> {
  return { ...objectLabels(spec, 'database'), 'app.kubernetes.io/version': PGHA_VERSION, ...podSelector(spec) };
}
