import { loadAgentConfig, renderAgentConfigFile } from '../../../agent/src/config/agent-config';
import { ConfigError } from '../../../agent/src/errors';

const env = {
  PATRONI_SCOPE: 'demo',
  PATRONI_NAME: 'demo-0',
  PATRONI_KUBERNETES_POD_IP: '10.1.2.3',
  PATRONI_SUPERUSER_PASSWORD: 's3cret',
  PATRONI_REPLICATION_PASSWORD: 'r3pl',
};

describe('loadAgentConfig', () => {
  it('applies Patroni-compatible defaults and derives connect addresses from the pod IP', () => {
    const c = loadAgentConfig({ env });
    expect(c).toMatchObject({ scope: 'demo', name: 'demo-0', namespace: 'default', ttl: 30, loopWait: 10, retryTimeout: 10 });
    expect(c.kubernetes).toMatchObject({ useEndpoints: false, roleLabel: 'role', leaderLabelValue: 'primary', followerLabelValue: 'replica', scopeLabel: 'cluster-name' });
    expect(c.restapi.connectAddress).toBe('10.1.2.3:8008');
    expect(c.postgresql.connectAddress).toBe('10.1.2.3:5432');
    expect(c.postgresql.superuser).toEqual({ username: 'postgres', password: 's3cret' });
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
    expect(() => loadAgentConfig({ yaml: 'kubernetes:\n  use_endpoint: true\n', env })).toThrow(/kubernetes.use_endpoint=true; unknown key; allowed under kubernetes: .*use_endpoints/);
  });

  it('fails on a wrong type, naming key and value', () => {
    expect(() => loadAgentConfig({ yaml: 'ttl: "thirty"\n', env })).toThrow('invalid configuration: ttl="thirty"; must be a whole number');
    expect(() => loadAgentConfig({ env: { ...env, PATRONI_KUBERNETES_USE_ENDPOINTS: 'maybe' } })).toThrow(/PATRONI_KUBERNETES_USE_ENDPOINTS="maybe"; must be true or false/);
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
