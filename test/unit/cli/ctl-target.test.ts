import { resolveTargetSettings } from '../../../agent/src/cli/ctl-target';
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
