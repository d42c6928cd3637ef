export * from './cluster-props';
export { ClusterCredentials, type ClusterPasswords, REPLICATION_PASSWORD_KEY, RESTAPI_PASSWORD_KEY, SUPERUSER_PASSWORD_KEY } from './credentials';
export { CLIENT_LABEL } from './labels';
export { PostgresCluster } from './postgres-cluster';
export { PropError, MAX_NAME_LENGTH, DEFAULT_RESTAPI_USERNAME, type ClusterSpec } from './cluster-spec';
export { DEFAULT_IMAGE, PGHA_VERSION } from './image';
