import { resolveTargetSettings } from '../../../agent/src/cli/ctl-target';
import { kubeconfigFiles } from '../../../agent/src/kube/kubectl-config';
import { exitCodeForStatus, ExitCode } from '../../../agent/src/cli/exit-codes';
import { endpointUrl } from '../../../agent/src/cli/member-api';

describe('resolveTargetSettings', () => {
  const file = {
    scope: 'fromfile',
    namespace: 'ns-agent',
    kubernetes: { labels: { app: 'db' }, use_endpoints: true, kubeconfig: '/file/kubeconfig' },
    restapi: { authentication: { username: 'api', password: 'secret' } },
  };

  it('prefers flags over the file over the environment', () => {
    const s = resolveTargetSettings({ scope: 'flag', kubeconfig: '/flag' }, file, { PATRONI_SCOPE: 'env', KUBECONFIG: '/env' });
    expect(s).toMatchObject({
      scope: 'flag',
      namespace: 'ns-agent',
      useEndpoints: true,
      kubeconfig: '/flag',
      selectorLabels: { app: 'db', 'cluster-name': 'flag' },
      auth: { username: 'api', password: 'secret' },
    });
  });

  it('reads patronictl files (kubernetes.namespace, ctl.authentication) and the environment', () => {
    const s = resolveTargetSettings(
      {},
      { scope: 'p', kubernetes: { namespace: 'k-ns', context: 'ctx' }, ctl: { authentication: { username: 'u', password: 'p' }, insecure: true } },
      {},
    );
    expect(s).toMatchObject({ scope: 'p', namespace: 'k-ns', context: 'ctx', auth: { username: 'u', password: 'p' }, insecure: true, useEndpoints: false });
    const e = resolveTargetSettings(
      {},
      {},
      {
        PATRONI_SCOPE: 'e',
        PATRONI_KUBERNETES_NAMESPACE: 'e-ns',
        PATRONI_RESTAPI_USERNAME: 'a',
        PATRONI_RESTAPI_PASSWORD: 'b',
        PATRONI_KUBERNETES_USE_ENDPOINTS: 'true',
      },
    );
    expect(e).toMatchObject({ scope: 'e', namespace: 'e-ns', auth: { username: 'a', password: 'b' }, useEndpoints: true });
  });

  describe('REST credentials', () => {
    const files: Record<string, string> = { '/etc/pgha-credentials/restapi-password': 'from-secret\n', '/other': 'other-pw' };
    const read = (p: string) => {
      if (!(p in files)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return files[p]!;
    };
    const auth = (file: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => resolveTargetSettings({ scope: 's' }, file, env, read).auth;

    it('in a member Pod: the username from the member file, the password from the file PATRONI_RESTAPI_PASSWORD_FILE names', () => {
      const member = { scope: 'orders', restapi: { listen: '0.0.0.0:8008', authentication: { username: 'pgha' } } };
      expect(auth(member, { PATRONI_RESTAPI_PASSWORD_FILE: '/etc/pgha-credentials/restapi-password' })).toEqual({ username: 'pgha', password: 'from-secret' });
    });

    it('reads restapi.authentication.password_file from the file (-c FILE or PATRONICTL_CONFIG_FILE)', () => {
      expect(auth({ restapi: { authentication: { username: 'u', password_file: '/other' } } })).toEqual({ username: 'u', password: 'other-pw' });
    });

    it('takes each key from the file before the environment, and a password before a password file', () => {
      const env = { PATRONI_RESTAPI_USERNAME: 'env-user', PATRONI_RESTAPI_PASSWORD: 'env-pw', PATRONI_RESTAPI_PASSWORD_FILE: '/other' };
      expect(auth({ restapi: { authentication: { username: 'file-user', password_file: '/etc/pgha-credentials/restapi-password' } } }, env)).toEqual({
        username: 'file-user',
        password: 'from-secret',
      });
      expect(auth({ restapi: { authentication: { username: 'file-user', password: 'inline', password_file: '/other' } } }, env)).toEqual({
        username: 'file-user',
        password: 'inline',
      });
      expect(auth({}, env)).toEqual({ username: 'env-user', password: 'env-pw' });
      expect(auth({}, { PATRONI_RESTAPI_USERNAME: 'env-user', PATRONI_RESTAPI_PASSWORD_FILE: '/other' })).toEqual({
        username: 'env-user',
        password: 'other-pw',
      });
    });

    it("prefers ctl.authentication (patronictl's section) whole over restapi.authentication", () => {
      const file = {
        ctl: { authentication: { username: 'ctl', password: 'ctl-pw' } },
        restapi: { authentication: { username: 'api', password_file: '/other' } },
      };
      expect(auth(file)).toEqual({ username: 'ctl', password: 'ctl-pw' });
    });

    it('sends none without both a username and a password', () => {
      expect(auth({ restapi: { authentication: { username: 'pgha' } } })).toBeUndefined();
      expect(auth({}, { PATRONI_RESTAPI_PASSWORD_FILE: '/other' })).toBeUndefined();
    });

    it('fails with a password file that cannot be read, naming it (a usage error: nothing is sent)', () => {
      expect(() => auth({ restapi: { authentication: { username: 'u', password_file: '/gone' } } })).toThrow(
        'restapi.authentication.password_file /gone: cannot read the file (ENOENT)',
      );
      expect(() => auth({}, { PATRONI_RESTAPI_USERNAME: 'u', PATRONI_RESTAPI_PASSWORD_FILE: '/gone' })).toThrow(
        'PATRONI_RESTAPI_PASSWORD_FILE /gone: cannot read the file (ENOENT)',
      );
    });
  });

  it('fails without a scope, naming the ways to give one', () => {
    expect(() => resolveTargetSettings({}, {}, {})).toThrow(/--scope NAME, -c FILE with a scope, or set PATRONI_SCOPE/);
  });

  it('leaves the namespace and the kubeconfig open when nothing names them (the kubeconfig context decides, as kubectl)', () => {
    const s = resolveTargetSettings({ scope: 's' }, {}, { KUBECONFIG: '/env/config' });
    expect(s.namespace).toBeUndefined();
    expect(s.kubeconfig).toBeUndefined();
  });
});

describe('kubeconfigFiles: the files kubectl would read', () => {
  const existing =
    (...paths: string[]) =>
    (p: string) =>
      paths.includes(p);

  it('an explicit file wins and must exist', () => {
    expect(kubeconfigFiles('/a', { KUBECONFIG: '/b' }, existing('/a', '/b'))).toEqual({ files: ['/a'], source: '--kubeconfig' });
    expect(() => kubeconfigFiles('/gone', {}, existing())).toThrow('kubeconfig="/gone"; must be an existing kubeconfig file');
  });

  it('KUBECONFIG lists files to merge; missing entries are skipped, none at all is an error', () => {
    expect(kubeconfigFiles(undefined, { KUBECONFIG: '/a::/missing:/b' }, existing('/a', '/b'))).toEqual({ files: ['/a', '/b'], source: 'KUBECONFIG' });
    expect(() => kubeconfigFiles(undefined, { KUBECONFIG: '/x:/y' }, existing())).toThrow(
      'KUBECONFIG="/x:/y"; must list at least one existing kubeconfig file',
    );
  });

  it('then ~/.kube/config, then none (the in-cluster service account)', () => {
    expect(kubeconfigFiles(undefined, { HOME: '/home/u' }, existing('/home/u/.kube/config'))).toEqual({
      files: ['/home/u/.kube/config'],
      source: '~/.kube/config',
    });
    expect(kubeconfigFiles(undefined, { HOME: '/home/u' }, existing())).toBeUndefined();
    expect(kubeconfigFiles(undefined, {}, existing())).toBeUndefined();
  });
});

describe('exit codes and URLs', () => {
  it.each([
    [200, ExitCode.ok],
    [202, ExitCode.ok],
    [400, ExitCode.refused],
    [412, ExitCode.refused],
    // Patroni refuses with 503 too ("I am the leader, can not reinitialize"): the member answered, so it is a refusal.
    [503, ExitCode.refused],
    [500, ExitCode.refused],
  ])('HTTP %p exits %p', (status, code) => expect(exitCodeForStatus(status)).toBe(code));

  it('derives endpoint URLs from a published api_url', () => {
    expect(endpointUrl('http://127.0.0.10:8008/patroni', 'switchover').href).toBe('http://127.0.0.10:8008/switchover');
  });
});
