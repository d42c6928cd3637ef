import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../agent/src/errors';
import { inClusterConnection, kubeConfigConnection, tokenFromFile } from '../../../agent/src/kube/kube-connection';

const dir = mkdtempSync(join(tmpdir(), 'pgha-kc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

describe('kubeConfigConnection', () => {
  writeFileSync(join(dir, 'ca.crt'), 'CA-PEM');
  const path = kubeconfig(
    'config',
    `apiVersion: v1
kind: Config
current-context: b
clusters:
- name: one
  cluster: {server: "https://127.0.0.1:6443/", certificate-authority: ca.crt}
- name: two
  cluster: {server: "https://192.0.2.1:443", certificate-authority-data: ${Buffer.from('INLINE-CA').toString('base64')}, tls-server-name: api.example}
users:
- name: u1
  user: {token: tok-1}
- name: u2
  user: {token: tok-2}
contexts:
- name: a
  context: {cluster: one, user: u1, namespace: ns-a}
- name: b
  context: {cluster: two, user: u2}
`,
  );

  it('uses current-context when no context is named', () => {
    const c = kubeConfigConnection(path);
    expect(c.server).toBe('https://192.0.2.1:443');
    expect(c.caPem).toBe('INLINE-CA');
    expect(c.tlsServerName).toBe('api.example');
    expect(c.token?.()).toBe('tok-2');
  });

  it('reads a named context, resolves relative CA paths and strips a trailing slash', () => {
    const c = kubeConfigConnection(path, 'a');
    expect(c.server).toBe('https://127.0.0.1:6443');
    expect(c.caPem).toBe('CA-PEM');
    expect(c.namespace).toBe('ns-a');
  });

  it('fails naming the context when it does not exist', () => {
    expect(() => kubeConfigConnection(path, 'nope')).toThrow(ConfigError);
    expect(() => kubeConfigConnection(path, 'nope')).toThrow(/kubernetes.context="nope"/);
  });

  it('fails on exec plugins instead of silently connecting without credentials', () => {
    const p = kubeconfig(
      'exec',
      `current-context: x
clusters: [{name: c, cluster: {server: "https://h:1"}}]
users: [{name: u, user: {exec: {command: aws}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
`,
    );
    expect(() => kubeConfigConnection(p)).toThrow(/exec and auth-provider plugins are not supported/);
  });
});

describe('inClusterConnection', () => {
  it('builds the service URL and verifies the certificate against the in-cluster name', () => {
    writeFileSync(join(dir, 'ca.crt'), 'SA-CA');
    writeFileSync(join(dir, 'token'), 'sa-token\n');
    const c = inClusterConnection({ KUBERNETES_SERVICE_HOST: '192.0.2.1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect(c.server).toBe('https://192.0.2.1:443');
    expect(c.tlsServerName).toBe('kubernetes.default.svc');
    expect(c.token?.()).toBe('sa-token');
  });

  it('brackets IPv6 service addresses', () => {
    const c = inClusterConnection({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect(c.server).toBe('https://[fd00::1]:443');
  });

  it('fails when not in a pod', () => {
    expect(() => inClusterConnection({}, dir)).toThrow(/KUBERNETES_SERVICE_HOST/);
  });
});

describe('tokenFromFile', () => {
  it('re-reads a rotated token once a minute, not on every request', () => {
    const path = join(dir, 'rotating');
    writeFileSync(path, 'first');
    let now = 0;
    const token = tokenFromFile(path, () => now);
    expect(token()).toBe('first');
    writeFileSync(path, 'second');
    now = 59_999;
    expect(token()).toBe('first');
    now = 60_000;
    expect(token()).toBe('second');
  });

  it('reads the file again on the next call once told the server refused the token (401)', () => {
    const path = join(dir, 'expired');
    writeFileSync(path, 'old');
    const token = tokenFromFile(path, () => 0);
    expect(token()).toBe('old');
    writeFileSync(path, 'rotated');
    expect(token()).toBe('old');
    token.stale?.();
    expect(token()).toBe('rotated');
    writeFileSync(path, 'later');
    expect(token()).toBe('rotated');
  });
});
