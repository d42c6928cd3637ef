import { buildAgentConfig, loadAgentConfig, renderAgentConfigFile } from '../../../agent/src/config/agent-config';
import { type ConfigErrors, loadFlatConfig } from '../../../agent/src/config/load-config';
import { ConfigError } from '../../../agent/src/errors';
import { normalizeParameters } from '../../../agent/src/postgres/settings';
import { MEMBER_ENV } from './member-env';

const env = MEMBER_ENV;

describe('loadAgentConfig', () => {
  it('applies Patroni-compatible defaults and derives connect addresses from the pod IP', () => {
    const c = loadAgentConfig({ env });
    expect(c).toMatchObject({ scope: 'demo', name: 'demo-0', namespace: 'default', ttl: 30, loopWait: 10, retryTimeout: 10 });
    expect(c.kubernetes).toMatchObject({
      useEndpoints: false,
      roleLabel: 'role',
      leaderLabelValue: 'primary',
      followerLabelValue: 'replica',
      scopeLabel: 'cluster-name',
    });
    expect(c.restapi.connectAddress).toBe('192.0.2.3:8008');
    expect(c.postgresql.connectAddress).toBe('192.0.2.3:5432');
    expect(c.postgresql.superuser).toEqual({ username: 'postgres', password: 's3cret', tls: {} });
  });

  it('lets the environment override the file', () => {
    const yaml = 'ttl: 40\nkubernetes:\n  role_label: old\n';
    const c = loadAgentConfig({ yaml, env: { ...env, PATRONI_KUBERNETES_ROLE_LABEL: 'new', PATRONI_KUBERNETES_USE_ENDPOINTS: 'true' } });
    expect(c.ttl).toBe(40);
    expect(c.kubernetes.roleLabel).toBe('new');
    expect(c.kubernetes.useEndpoints).toBe(true);
  });

  it('fails when loop_wait + 2 * retry_timeout exceeds ttl, naming the numbers', () => {
    expect(() => loadAgentConfig({ yaml: 'ttl: 20\nloop_wait: 10\nretry_timeout: 10\n', env })).toThrow(
      'invalid configuration: ttl=20; must be at least loop_wait + 2 * retry_timeout = 10 + 2 * 10 = 30',
    );
  });

  it('fails on an unknown key, listing the allowed ones', () => {
    expect(() => loadAgentConfig({ yaml: 'kubernetes:\n  use_endpoint: true\n', env })).toThrow(
      /kubernetes.use_endpoint=true; unknown key; did you mean kubernetes.use_endpoints\?; allowed under kubernetes: .*use_endpoints/,
    );
    expect(() => loadAgentConfig({ yaml: 'loopwait: 3\n', env })).toThrow(/loopwait=3; unknown key; did you mean loop_wait\?/);
  });

  it('lists every problem, not only the first', () => {
    try {
      loadAgentConfig({ yaml: 'ttl: thirty\nloopwait: 3\netcd3:\n  hosts: a:2379\n', env });
      throw new Error('expected a refusal');
    } catch (err) {
      expect((err as ConfigErrors).errors.map((e) => e.key).sort()).toEqual(['etcd3', 'loopwait', 'ttl']);
    }
  });

  it('starts with the Patroni keys it does not carry out, one warning each, and refuses those that would lower security', () => {
    const patroni = [
      'postgresql:',
      '  authentication:',
      '    superuser: {username: postgres, sslmode: prefer}',
      '    rewind: {username: rewind_user, password: r}',
      '  callbacks: {on_role_change: /bin/true}',
      '  before_stop: /bin/true',
      '  use_unix_socket: true',
      '  parameters: {unix_socket_directories: /tmp, logging_collector: "off", work_mem: 8MB}',
      'tags: {clonefrom: true}',
      'watchdog: {mode: automatic}',
      'log: {level: INFO}',
      'kubernetes: {namespace: db}',
      'bootstrap: {dcs: {ttl: 30}, initdb: [data-checksums], post_bootstrap: /bin/true}',
    ].join('\n');
    const flat = loadFlatConfig({ yaml: patroni, env: { ...env, PATRONI_LOG_LEVEL: 'INFO', PATRONI_REWIND_USERNAME: 'r', PATRONI_SOMETHING_NEW: 'x' } });
    expect(flat.warnings.map((w) => w.key).sort()).toEqual([
      'PATRONI_REWIND_USERNAME',
      'PATRONI_SOMETHING_NEW',
      'bootstrap.initdb',
      'bootstrap.post_bootstrap',
      'log',
      'postgresql.authentication.rewind',
      'postgresql.before_stop',
      'postgresql.parameters.logging_collector',
      'postgresql.parameters.unix_socket_directories',
      'postgresql.use_unix_socket',
      'tags.clonefrom',
      'watchdog',
    ]);
    const config = buildAgentConfig(flat, () => 'pw');
    expect(config.namespace).toBe('db');
    expect(config.postgresql.parameters).toEqual({ work_mem: '8MB' });
    for (const [yaml, extra, key] of [
      ['postgresql:\n  authentication:\n    replication: {username: r, sslpassword: k}\n', {}, 'postgresql.authentication.replication.sslpassword'],
      ['', { PATRONI_SUPERUSER_SSLNEGOTIATION: 'direct' }, 'PATRONI_SUPERUSER_SSLNEGOTIATION'],
      ['restapi: {verify_client: required}\n', {}, 'restapi.verify_client'],
      ['', { PATRONI_RESTAPI_VERIFY_CLIENT: 'required' }, 'PATRONI_RESTAPI_VERIFY_CLIENT'],
      ['standby_cluster: {host: 192.0.2.1}\n', {}, 'standby_cluster'],
      ['bootstrap: {method: from_backup, from_backup: {command: /restore}}\n', {}, 'bootstrap.method'],
    ] as const) {
      expect(() => loadFlatConfig({ yaml, env: { ...env, ...extra } })).toThrow(
        new RegExp(`^invalid configuration: ${key.replace(/\./g, '\\.')}=.*; is not supported: `),
      );
    }
  });

  it("takes Patroni's libpq TLS options for the roles' connections to other members, checked", () => {
    const yaml = [
      'postgresql:',
      '  authentication:',
      '    replication: {username: r, sslmode: verify-full, sslrootcert: /etc/pgha/ca.crt, channel_binding: require}',
      '    superuser: {username: postgres, sslmode: require}',
    ].join('\n');
    const config = buildAgentConfig(loadFlatConfig({ yaml, env: { ...env, PATRONI_REPLICATION_SSLCERT: '/etc/pgha/tls.crt' } }), () => 'pw');
    expect(config.postgresql.replication.tls).toEqual({
      sslmode: 'verify-full',
      sslrootcert: '/etc/pgha/ca.crt',
      sslcert: '/etc/pgha/tls.crt',
      channel_binding: 'require',
    });
    expect(config.postgresql.superuser.tls).toEqual({ sslmode: 'require' });
    expect(() => loadAgentConfig({ yaml: 'postgresql:\n  authentication:\n    replication: {sslmode: verify}\n', env })).toThrow(
      /postgresql\.authentication\.replication\.sslmode="verify"; must be one of disable, allow, prefer, require, verify-ca, verify-full/,
    );
    expect(() => loadAgentConfig({ yaml: 'postgresql:\n  authentication:\n    replication: {sslrootcert: ca.crt}\n', env })).toThrow(
      /postgresql\.authentication\.replication\.sslrootcert="ca\.crt"; must be an absolute path/,
    );
  });

  it('translates wal_keep_segments into wal_keep_size, as Patroni does for PostgreSQL 13 and later', () => {
    expect(normalizeParameters({ wal_keep_segments: 8, work_mem: '4MB' })).toEqual({ wal_keep_size: '128MB', work_mem: '4MB' });
    expect(normalizeParameters({ wal_keep_segments: 8, wal_keep_size: '1GB' })).toEqual({ wal_keep_size: '1GB' });
    expect(() => normalizeParameters({ wal_keep_segments: 'many' })).toThrow(
      'postgresql.parameters.wal_keep_segments="many"; must be a whole number of segments',
    );
  });

  it('fails on a wrong type, naming key and value', () => {
    expect(() => loadAgentConfig({ yaml: 'ttl: "thirty"\n', env })).toThrow('invalid configuration: ttl="thirty"; must be a whole number');
    expect(() => loadAgentConfig({ env: { ...env, PATRONI_KUBERNETES_USE_ENDPOINTS: 'maybe' } })).toThrow(
      /PATRONI_KUBERNETES_USE_ENDPOINTS="maybe"; must be true or false/,
    );
  });

  it('fails on a scope that cannot name Kubernetes objects', () => {
    expect(() => loadAgentConfig({ env: { ...env, PATRONI_SCOPE: 'Bad_Name' } })).toThrow(/scope="Bad_Name"; must be a DNS label/);
  });

  it('never echoes a secret in an error', () => {
    const err = (() => {
      try {
        loadAgentConfig({ yaml: 'restapi:\n  authentication:\n    password: 12345\n', env });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err.message).not.toContain('12345');
    expect(err.message).toContain('<redacted>');
  });

  it('reads passwords from files and refuses both forms at once', () => {
    const files: Record<string, string> = { '/s/su': 'from-file\n' };
    const { PATRONI_SUPERUSER_PASSWORD: _omit, ...rest } = env;
    const c = loadAgentConfig({ env: { ...rest, PATRONI_SUPERUSER_PASSWORD_FILE: '/s/su' } }, (p) => files[p]!);
    expect(c.postgresql.superuser.password).toBe('from-file');
    expect(() => loadAgentConfig({ env: { ...env, PATRONI_SUPERUSER_PASSWORD_FILE: '/s/su' } }, (p) => files[p]!)).toThrow(/conflicts with/);
  });

  it('requires a name', () => {
    const { PATRONI_NAME: _omit, ...rest } = env;
    expect(() => loadAgentConfig({ env: rest })).toThrow(/name=undefined; is required \(set it in the file or PATRONI_NAME\)/);
  });
});

describe('renderAgentConfigFile', () => {
  it('renders YAML the agent accepts', () => {
    const yaml = renderAgentConfigFile({ scope: 'demo', namespace: 'db', kubernetes: { use_endpoints: true } });
    expect(yaml).toContain('use_endpoints: true');
  });

  it('fails at synth time on a configuration the agent would refuse', () => {
    expect(() => renderAgentConfigFile({ scope: 'demo', ttl: 10 })).toThrow(ConfigError);
  });
});
