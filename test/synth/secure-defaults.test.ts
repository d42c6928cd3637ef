// Secure by default: the REST API takes unsafe methods only with basic auth, and a NetworkPolicy lets only the
// members (both ports) and labelled clients (PostgreSQL) in.
import { App, Chart } from 'cdk8s';
import { parse } from 'yaml';
import { loadAgentConfig } from '../../agent/src/config/agent-config';
import { CLIENT_LABEL, ClusterCredentials, PostgresCluster, StoreMode } from '../../constructs';
import { find, synthCluster, type K8sObject } from './helpers';

const memberFile = (objects: K8sObject[]) => parse(find(objects, 'ConfigMap', 'demo-pgha').data['pgha.yaml']);
const containerEnv = (objects: K8sObject[]) => find(objects, 'StatefulSet', 'demo').spec.template.spec.containers[0].env.map((e: { name: string }) => e.name);

describe('REST API authentication', () => {
  it('is on by default: the user in the member file, the password only as a file from the Secret', () => {
    const objects = synthCluster();
    expect(memberFile(objects).restapi).toEqual({ listen: '0.0.0.0:8008', authentication: { username: 'pgha' } });
    const env = find(objects, 'StatefulSet', 'demo').spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'PATRONI_RESTAPI_PASSWORD_FILE', value: '/etc/pgha-credentials/restapi-password' });
    expect(JSON.stringify(objects)).not.toContain('PATRONI_RESTAPI_PASSWORD"');
  });

  it('takes restApiUsername', () => {
    expect(memberFile(synthCluster({ restApiUsername: 'ops@db' })).restapi.authentication).toEqual({ username: 'ops@db' });
  });

  it('can be turned off: no user, no password file, an agent that loads without one', () => {
    const objects = synthCluster({ restApiAuthentication: false });
    expect(memberFile(objects).restapi).toEqual({ listen: '0.0.0.0:8008' });
    expect(containerEnv(objects)).not.toContain('PATRONI_RESTAPI_PASSWORD_FILE');
    const env = {
      PATRONI_NAME: 'demo-0',
      PATRONI_KUBERNETES_POD_IP: '192.0.2.7',
      PATRONI_SUPERUSER_PASSWORD_FILE: '/s',
      PATRONI_REPLICATION_PASSWORD_FILE: '/r',
    };
    expect(loadAgentConfig({ yaml: find(objects, 'ConfigMap', 'demo-pgha').data['pgha.yaml'], env }, () => 'pw').restapi.authentication).toBeUndefined();
  });

  it('rolls the members when it is turned on or off', () => {
    const digest = (objects: K8sObject[]) => find(objects, 'StatefulSet', 'demo').spec.template.metadata.annotations['pgha.io/config-sha256'];
    expect(digest(synthCluster({ restApiAuthentication: false }))).not.toBe(digest(synthCluster()));
  });
});

describe('NetworkPolicy', () => {
  const objects = synthCluster({ namespace: 'db' });
  const policy = find(objects, 'NetworkPolicy', 'demo');
  const members = { 'app.kubernetes.io/name': 'pgha', 'cluster-name': 'demo' };

  it("selects exactly the StatefulSet's Pods, by the same immutable selector", () => {
    expect(policy.metadata.namespace).toBe('db');
    expect(policy.spec.podSelector).toEqual({ matchLabels: find(objects, 'StatefulSet', 'demo').spec.selector.matchLabels });
    expect(policy.spec.podSelector.matchLabels).toEqual(members);
    expect(policy.metadata.labels?.['cluster-name']).toBeUndefined();
  });

  it('admits PostgreSQL and the REST API from the members, PostgreSQL from labelled clients, and nothing else', () => {
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: members } }],
        ports: [
          { protocol: 'TCP', port: 5432 },
          { protocol: 'TCP', port: 8008 },
        ],
      },
      { from: [{ podSelector: { matchLabels: { 'pgha.io/client': 'demo' } } }], ports: [{ protocol: 'TCP', port: 5432 }] },
    ]);
  });

  it('follows a custom scope label for the members, while the client label stays pgha.io/client', () => {
    const p = find(synthCluster({ scopeLabel: 'example.com/cluster' }), 'NetworkPolicy', 'demo');
    expect(p.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'pgha', 'example.com/cluster': 'demo' });
    expect(p.spec.ingress[1].from).toEqual([{ podSelector: { matchLabels: { [CLIENT_LABEL]: 'demo' } } }]);
  });

  it('is the same in Endpoints mode', () => {
    expect(find(synthCluster({ namespace: 'db', storeMode: StoreMode.ENDPOINTS }), 'NetworkPolicy', 'demo').spec).toEqual(policy.spec);
  });

  it('can be turned off', () => {
    expect(synthCluster({ networkPolicy: false }).some((o) => o.kind === 'NetworkPolicy')).toBe(false);
  });
});

describe('PostgresCluster attributes for consumers', () => {
  it('exposes the client Pod labels and the NetworkPolicy name', () => {
    const pg = new PostgresCluster(new Chart(new App(), 'c'), 'orders', { credentials: ClusterCredentials.fromSecret('s') });
    expect(pg.clientPodLabels).toEqual({ 'pgha.io/client': 'orders' });
    expect(pg.networkPolicyName).toBe('orders');
    expect(new PostgresCluster(new Chart(new App(), 'c'), 'orders', { networkPolicy: false }).networkPolicyName).toBeUndefined();
  });
});
