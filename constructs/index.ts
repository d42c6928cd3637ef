export * from './cluster-props';
export { ClusterCredentials } from './credentials';
export { PostgresCluster } from './postgres-cluster';
export { PropError, MAX_NAME_LENGTH, type ClusterSpec } from './cluster-spec';
export { DEFAULT_IMAGE, PGHA_VERSION } from './image';
