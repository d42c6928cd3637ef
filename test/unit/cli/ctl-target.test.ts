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
    expect(s).toMatchObject({ scope: 'flag', namespace: 'ns-agent', useEndpoints: true, kubeconfig: '/flag', selectorLabels: { app: 'db', 'cluster-name': 'flag' }, auth: { username: 'api', password: 'secret' } });
  });

  it('reads patronictl files (kubernetes.namespace, ctl.authentication) and the environment', () => {
    const s = resolveTargetSettings({}, { scope: 'p', kubernetes: { namespace: 'k-ns', context: 'ctx' }, ctl: { authentication: { username: 'u', password: 'p' }, insecure: true } }, {});
    expect(s).toMatchObject({ scope: 'p', namespace: 'k-ns', context: 'ctx', auth: { username: 'u', password: 'p' }, insecure: true, useEndpoints: false });
    const e = resolveTargetSettings({}, {}, { PATRONI_SCOPE: 'e', PATRONI_KUBERNETES_NAMESPACE: 'e-ns', PATRONI_RESTAPI_USERNAME: 'a', PATRONI_RESTAPI_PASSWORD: 'b', PATRONI_KUBERNETES_USE_ENDPOINTS: 'true' });
    expect(e).toMatchObject({ scope: 'e', namespace: 'e-ns', auth: { username: 'a', password: 'b' }, useEndpoints: true });
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
  const existing = (...paths: string[]) => (p: string) => paths.includes(p);

  it('an explicit file wins and must exist', () => {
    expect(kubeconfigFiles('/a', { KUBECONFIG: '/b' }, existing('/a', '/b'))).toEqual({ files: ['/a'], source: '--kubeconfig' });
    expect(() => kubeconfigFiles('/gone', {}, existing())).toThrow('kubeconfig="/gone"; must be an existing kubeconfig file');
  });

  it('KUBECONFIG lists files to merge; missing entries are skipped, none at all is an error', () => {
    expect(kubeconfigFiles(undefined, { KUBECONFIG: '/a::/missing:/b' }, existing('/a', '/b'))).toEqual({ files: ['/a', '/b'], source: 'KUBECONFIG' });
    expect(() => kubeconfigFiles(undefined, { KUBECONFIG: '/x:/y' }, existing())).toThrow('KUBECONFIG="/x:/y"; must list at least one existing kubeconfig file');
  });

  it('then ~/.kube/config, then none (the in-cluster service account)', () => {
    expect(kubeconfigFiles(undefined, { HOME: '/home/u' }, existing('/home/u/.kube/config'))).toEqual({ files: ['/home/u/.kube/config'], source: '~/.kube/config' });
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
