// The `pgha` CLI reads kubeconfig files the way kubectl does, against the real control plane: exec credential
// plugins, several files in KUBECONFIG merged (the context's namespace used), ~/.kube/config, `tls-server-name`,
// `proxy-url` (an HTTP CONNECT proxy), and an http:// server with a path prefix (`kubectl proxy --api-prefix`).
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { stringify as toYaml } from 'yaml';
import { ensureBinaries } from '../../control-plane/binaries';
import { agentSuite } from '../suite';
import { runPgha } from './run-pgha';

jest.setTimeout(120_000);
const suite = agentSuite('cli-kc');
const cp = suite.cp;
const SCOPE = 'kc';
const children: ChildProcess[] = [];
const servers: Server[] = [];
const sockets: Duplex[] = [];

beforeAll(async () => {
  const config = { ttl: 17, loop_wait: 3 };
  await suite.admin.request({
    method: 'POST',
    path: `/api/v1/namespaces/${suite.namespace}/configmaps`,
    body: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${SCOPE}-config`, labels: { 'cluster-name': SCOPE }, annotations: { config: JSON.stringify(config) } },
    },
  });
}, 180_000);

suite.onTeardown(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of sockets) s.destroy();
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
});

type Kubeconfig = {
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> }[];
  contexts?: { name: string; context: Record<string, unknown> }[];
  'current-context'?: string;
};

function writeConfig(name: string, kc: Kubeconfig): string {
  const path = join(suite.dir, name);
  writeFileSync(path, toYaml({ apiVersion: 'v1', kind: 'Config', ...kc }), { mode: 0o600 });
  return path;
}

const cluster = (extra: Record<string, unknown> = {}) => ({
  name: 'test',
  cluster: { server: cp.state.server, 'certificate-authority': cp.state.caFile, ...extra },
});
const tokenUser = { name: 'admin', user: { token: cp.state.adminToken } };
const context = (namespace?: string) => ({ name: 'test', context: { cluster: 'test', user: 'admin', ...(namespace ? { namespace } : {}) } });

/** `pgha show-config` of the test cluster; `-n` only when given. */
async function showConfig(env: NodeJS.ProcessEnv, namespace: string | undefined = suite.namespace) {
  return runPgha(['show-config', '--scope', SCOPE, ...(namespace ? ['-n', namespace] : []), '--json'], env);
}

function expectConfig(r: { code: number | null; stdout: string; stderr: string }): void {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ ttl: 17, loop_wait: 3 });
}

it('runs an exec credential plugin for the token', async () => {
  const marker = join(suite.dir, 'plugin-ran');
  const plugin = join(suite.dir, 'credential-plugin.sh');
  const credential = { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: cp.state.adminToken } };
  writeFileSync(plugin, `#!/bin/sh\ntouch '${marker}'\necho '${JSON.stringify(credential)}'\n`);
  chmodSync(plugin, 0o700);
  const path = writeConfig('exec.kubeconfig', {
    clusters: [cluster()],
    users: [{ name: 'admin', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } } }],
    contexts: [context()],
    'current-context': 'test',
  });
  expectConfig(await showConfig({ KUBECONFIG: path }));
  expect(existsSync(marker)).toBe(true);
});

it('merges the files KUBECONFIG lists and uses the namespace of the current context', async () => {
  const contexts = writeConfig('contexts.kubeconfig', { contexts: [context(suite.namespace)], 'current-context': 'test' });
  const credentials = writeConfig('credentials.kubeconfig', { clusters: [cluster()], users: [tokenUser], 'current-context': 'elsewhere' });
  expectConfig(await showConfig({ KUBECONFIG: `${contexts}:${join(suite.dir, 'absent')}:${credentials}` }, undefined));
});

it('reads ~/.kube/config when nothing else names a kubeconfig', async () => {
  const home = join(suite.dir, 'home');
  mkdirSync(join(home, '.kube'), { recursive: true });
  writeFileSync(
    join(home, '.kube', 'config'),
    readFileSync(
      writeConfig('home.kubeconfig', { clusters: [cluster()], users: [tokenUser], contexts: [context(suite.namespace)], 'current-context': 'test' }),
    ),
  );
  expectConfig(await showConfig({ HOME: home }, undefined));
});

it('verifies the serving certificate against tls-server-name', async () => {
  const good = writeConfig('sni.kubeconfig', {
    clusters: [cluster({ 'tls-server-name': 'kubernetes.default.svc' })],
    users: [tokenUser],
    contexts: [context()],
    'current-context': 'test',
  });
  expectConfig(await showConfig({ KUBECONFIG: good }));
  const wrong = writeConfig('sni-wrong.kubeconfig', {
    clusters: [cluster({ 'tls-server-name': 'not-the-apiserver.example' })],
    users: [tokenUser],
    contexts: [context()],
    'current-context': 'test',
  });
  const r = await showConfig({ KUBECONFIG: wrong });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/not-the-apiserver\.example/);
});

it('tunnels through the proxy-url of the cluster', async () => {
  const tunnels: string[] = [];
  const proxy = createServer();
  proxy.on('connect', (req, socket, head) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      sockets.push(socket, upstream);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  servers.push(proxy);
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const path = writeConfig('proxy.kubeconfig', {
    clusters: [cluster({ 'proxy-url': proxyUrl })],
    users: [tokenUser],
    contexts: [context()],
    'current-context': 'test',
  });
  expectConfig(await showConfig({ KUBECONFIG: path }));
  expect(tunnels.length).toBeGreaterThan(0);
  expect(new Set(tunnels)).toEqual(new Set([new URL(cp.state.server).host]));
});

it('talks plain HTTP to kubectl proxy, keeping the path prefix of the server URL', async () => {
  const kubectl = spawn(
    ensureBinaries().kubectl,
    ['proxy', '--port=0', '--address=127.0.0.1', '--api-prefix=/prefix/', `--kubeconfig=${cp.state.kubeconfig}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(kubectl);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    kubectl.stdout.setEncoding('utf8').on('data', (t: string) => {
      out += t;
      const m = /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    kubectl.once('exit', (code) => reject(new Error(`kubectl proxy exited with ${code}: ${out}`)));
  });
  const path = writeConfig('kubectl-proxy.kubeconfig', {
    clusters: [{ name: 'test', cluster: { server: `http://127.0.0.1:${port}/prefix` } }],
    users: [{ name: 'admin', user: {} }],
    contexts: [context()],
    'current-context': 'test',
  });
  expectConfig(await showConfig({ KUBECONFIG: path }));
});

it('refuses a KUBECONFIG naming no existing file instead of falling back to another cluster', async () => {
  const r = await showConfig({ KUBECONFIG: join(suite.dir, 'nope'), HOME: join(suite.dir, 'home') });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('must list at least one existing kubeconfig file');
});
