import { App, Chart } from 'cdk8s';
import { PostgresCluster, type PostgresClusterProps } from '../../constructs';

/**
 * Helm and OpenShift outputs come from the same construct as the plain manifests. The construct is built with
 * marker values (each valid for its prop, and unlike anything else in the output); each output then swaps the
 * markers for its own parameter syntax. So a parameter can only appear where the model put the prop's value.
 */
export interface Parameter {
  /** The marker: a string, or a whole number, given to the construct. */
  readonly marker: string | number;
}

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: unknown }; [k: string]: unknown };

/** Synthesizes one cluster from props (usually carrying markers) and returns its objects. */
export function modelObjects(props: PostgresClusterProps, id = 'pgha'): Manifest[] {
  const chart = new Chart(new App(), 'model', { disableResourceNameHashes: true });
  new PostgresCluster(chart, id, props);
  return chart.toJson() as Manifest[];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A pattern matching the marker where it stands alone (digits not inside a longer number or word). */
export function markerPattern(marker: string | number): RegExp {
  return new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(String(marker))}(?![A-Za-z0-9])`, 'g');
}

/** Fails when a marker survived substitution, or when two markers could be confused with each other. */
export function assertNoMarkers(text: string, params: Readonly<Record<string, Parameter>>, where: string): void {
  for (const [name, p] of Object.entries(params)) {
    if (markerPattern(p.marker).test(text)) throw new Error(`${where}: parameter ${name} left its marker ${p.marker} in the output`);
  }
}
