import type { StoreLayout } from './layout';
import type { Subset } from './leader-endpoints';

/** API paths and new-object bodies of one cluster's objects (Patroni's layout, in one namespace). */
export class StorePaths {
  constructor(
    private readonly p: {
      readonly namespace: string;
      readonly layout: StoreLayout;
      /** Written on every object: the cluster's selector labels. */
      readonly labels: Readonly<Record<string, string>>;
      readonly useEndpoints: boolean;
    },
  ) {}

  collection(): string {
    return `/api/v1/namespaces/${this.p.namespace}/${this.p.layout.resource}`;
  }

  object(name: string): string {
    return `${this.collection()}/${name}`;
  }

  pod(name: string): string {
    return `/api/v1/namespaces/${this.p.namespace}/pods/${name}`;
  }

  /** A new ConfigMap (or Endpoints) with these annotations; nulls are dropped (they only mean "delete" in a patch). */
  newObject(name: string, annotations: Readonly<Record<string, string | null>>, subsets?: Subset[]): Record<string, unknown> {
    const clean = Object.fromEntries(Object.entries(annotations).filter(([, v]) => v !== null));
    const kind = this.p.useEndpoints ? 'Endpoints' : 'ConfigMap';
    return {
      apiVersion: 'v1',
      kind,
      metadata: { name, namespace: this.p.namespace, labels: this.p.labels, annotations: clean },
      ...(subsets ? { subsets } : {}),
    };
  }
}
