import { App, Chart, Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-33';
import { ClusterCredentials, Persistence, PostgresCluster, PropError, StoreMode, type PostgresClusterProps } from '../../../constructs';

function build(props: PostgresClusterProps, id = 'demo'): () => void {
  return () => new PostgresCluster(new Chart(new App(), 'c'), id, props);
}

describe('PostgresCluster validation at construction time', () => {
  const cases: [string, PostgresClusterProps, RegExp][] = [
    [
      'fails with impossible timing',
      { ttl: Duration.seconds(20), loopWait: Duration.seconds(10), retryTimeout: Duration.seconds(10) },
      /^invalid ttl: got "20s"; must be at least loopWait \+ 2 \* retryTimeout = 10 \+ 2 \* 10 = 30s$/,
    ],
    ['fails with replicas below 1', { replicas: 0 }, /^invalid replicas: got 0; must be a whole number of at least 1$/],
    ['fails with fractional replicas', { replicas: 1.5 }, /^invalid replicas: got 1.5/],
    [
      'fails with a PDB that could never be satisfied',
      { maxUnavailable: 0 },
      /^invalid maxUnavailable: got 0; must be a whole number from 1 to replicas \(3\)/,
    ],
    ['fails with maxUnavailable above replicas', { replicas: 2, maxUnavailable: 3 }, /^invalid maxUnavailable: got 3/],
    [
      'fails with a storage size that is not whole MiB',
      { storageSize: Size.kibibytes(1536) },
      /^invalid storageSize: got "1536Ki"; must be a whole number of MiB/,
    ],
    ['fails with a zero storage size', { storageSize: Size.gibibytes(0) }, /^invalid storageSize: got "0Ki"/],
    [
      'fails with a storage class on ephemeral storage',
      { persistence: Persistence.EPHEMERAL, storageClassName: 'fast' },
      /^invalid storageClassName: got "fast"; conflicts with persistence EPHEMERAL/,
    ],
    [
      "fails with a grace period not above the agent's shutdown deadline",
      { shutdownTimeout: Duration.seconds(25), terminationGracePeriod: Duration.seconds(35) },
      /^invalid terminationGracePeriod: got "35s"; must be whole seconds greater than shutdownTimeout \+ retryTimeout = 25 \+ 10 = 35s/,
    ],
    ['fails with fractional seconds', { loopWait: Duration.millis(1500) }, /^invalid loopWait: got "1.5s"; must be a whole number of seconds from 1 to 3600$/],
    [
      'fails with a ttl below the agent minimum',
      { ttl: Duration.seconds(2), loopWait: Duration.seconds(1), retryTimeout: Duration.seconds(1) },
      /^invalid ttl: got "2s"; must be a whole number of seconds from 5/,
    ],
    ['fails with bypassApiService but no namespace', { bypassApiService: true }, /^invalid bypassApiService: got true; requires namespace/],
    [
      'fails with a renamed primary Service in Endpoints mode',
      { storeMode: StoreMode.ENDPOINTS, primaryServiceName: 'rw' },
      /^invalid primaryServiceName: got "rw"; conflicts with storeMode ENDPOINTS/,
    ],
    [
      'fails with a memory limit below the request',
      { memoryRequest: Size.gibibytes(2), memoryLimit: Size.gibibytes(1) },
      /^invalid memoryLimit: got "1Gi"; must be at least memoryRequest \(2Gi\)$/,
    ],
    ['fails with a zero CPU request', { cpuRequest: Cpu.millis(0) }, /^invalid cpuRequest: got "0m"/],
    ['fails with a bad role label value', { leaderLabelValue: 'has space' }, /^invalid leaderLabelValue: got "has space"/],
    ['fails with an image with spaces', { image: 'a b' }, /^invalid image: got "a b"/],
    [
      'fails with empty passwords',
      { credentials: ClusterCredentials.fromPasswords({ superuser: '', replication: 'x', restApi: 'y' }) },
      /^invalid credentials/,
    ],
    [
      'fails with an empty REST API password',
      { credentials: ClusterCredentials.fromPasswords({ superuser: 'x', replication: 'x', restApi: '' }) },
      /^invalid credentials: got "<empty password>"; passwords must not be empty$/,
    ],
    [
      'fails with fromPasswords lacking the REST API password while authentication is on',
      { credentials: ClusterCredentials.fromPasswords({ superuser: 'x', replication: 'y' }) },
      /^invalid credentials: got "<no restApi password>"; fromPasswords needs a restApi password while restApiAuthentication is on \(the default\); or set restApiAuthentication: false$/,
    ],
    [
      'fails with a REST API password but authentication off',
      { restApiAuthentication: false, credentials: ClusterCredentials.fromPasswords({ superuser: 'x', replication: 'y', restApi: 'z' }) },
      /^invalid credentials: got "<restApi password>"; a restApi password requires restApiAuthentication: true; drop one of them$/,
    ],
    [
      'fails with restApiUsername but authentication off',
      { restApiAuthentication: false, restApiUsername: 'ops' },
      /^invalid restApiUsername: got "ops"; requires restApiAuthentication: true$/,
    ],
    [
      'fails with a REST API user basic auth cannot carry',
      { restApiUsername: 'a:b' },
      /^invalid restApiUsername: got "a:b"; must be 1 to 63 letters, digits, "\.", "_", "@" or "-", starting with a letter or digit$/,
    ],
    ['fails with an empty REST API user', { restApiUsername: '' }, /^invalid restApiUsername: got ""; must be 1 to 63/],
    [
      'fails with same names for both Services',
      { replicasServiceName: 'demo' },
      /^invalid replicasServiceName: got "demo"; must differ from primaryServiceName$/,
    ],
    [
      'fails with a parameter the agent manages',
      { postgresql: { parameters: { Port: 5433 } } },
      /^invalid postgresql\.parameters\.Port: got 5433; is managed by pgha and cannot be set here$/,
    ],
    [
      'fails with a parameter name PostgreSQL would not accept',
      { postgresql: { parameters: { 'bad-name': 1 } } },
      /^invalid postgresql\.parameters\.bad-name: got 1; is not a valid setting name$/,
    ],
    [
      'fails with an empty pgHba, which would let no client in',
      { postgresql: { pgHba: [] } },
      /^invalid postgresql\.pgHba: got \[\]; must list at least one pg_hba\.conf line/,
    ],
    [
      'fails with a pgHba entry of two lines',
      { postgresql: { pgHba: ['host all all all md5\nlocal all all trust'] } },
      /^invalid postgresql\.pgHba\[0\]: got "host all all all md5\\nlocal all all trust"; must be one non-empty pg_hba\.conf line$/,
    ],
    [
      'fails with synchronousModeStrict but no synchronousMode',
      { synchronousModeStrict: true },
      /^invalid synchronousModeStrict: got true; requires synchronousMode: true$/,
    ],
    [
      'fails with synchronousNodeCount but no synchronousMode',
      { synchronousNodeCount: 2 },
      /^invalid synchronousNodeCount: got 2; requires synchronousMode: true$/,
    ],
    [
      'fails with more synchronous standbys than replicas - 1',
      { synchronousMode: true, synchronousNodeCount: 3 },
      /^invalid synchronousNodeCount: got 3; must be a whole number from 1 to replicas - 1 \(2\)$/,
    ],
  ];
  it.each(cases)('%s', (_name, props, message) => {
    expect(build(props)).toThrow(PropError);
    expect(build(props)).toThrow(message);
  });

  it('fails with a name that is not a DNS label', () => {
    expect(build({}, 'Bad_Name')).toThrow(/^invalid name: got "Bad_Name"; must be a DNS label/);
  });

  it('fails with a name too long for the names built from it', () => {
    expect(build({ name: 'a'.repeat(51) })).toThrow(/of at most 50 characters$/);
    expect(build({ name: 'a'.repeat(50) })).not.toThrow();
  });

  it('accepts fromPasswords without a REST API password once authentication is off', () => {
    expect(build({ restApiAuthentication: false, credentials: ClusterCredentials.fromPasswords({ superuser: 'x', replication: 'y' }) })).not.toThrow();
  });

  it('accepts the tightest valid timing', () => {
    expect(build({ ttl: Duration.seconds(30), loopWait: Duration.seconds(10), retryTimeout: Duration.seconds(10) })).not.toThrow();
  });
});
