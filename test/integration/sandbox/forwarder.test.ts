// The sandbox's stand-ins for the kubelet and kube-proxy, against the real control plane: a Service that selects
// role=primary routes, through the real EndpointSlice controller, to the member that is labelled primary and Ready.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { MERGE_PATCH } from '../../../agent/src/kube/kube-client';
import { freePort } from '../../control-plane/free-port';
import { createTestNamespace, eventually, testControlPlane, type TestNamespace } from '../../fixtures/cluster';
import { ServiceForwarder } from '../../sandbox/forwarder';
import { ensureSandboxNode, SimulatedPod } from '../../sandbox/pod-sim';

const cp = testControlPlane();
let admin: KubeClient;
let ns: TestNamespace;
const servers: (Server | HttpServer)[] = [];
const pods: SimulatedPod[] = [];
let forwarder: ServiceForwarder;
const readiness: Record<string, boolean> = { a: true, b: true };

function listen(server: Server | HttpServer, host: string, port: number): Promise<void> {
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

/** Connects through the forwarder and returns the banner the member wrote ('' when the connection was refused). */
function banner(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let data = '';
    s.on('data', (c) => (data += c.toString()));
    s.on('close', () => resolve(data));
    s.on('error', () => resolve(''));
  });
}

beforeAll(async () => {
  admin = cp.adminClient();
  ns = await createTestNamespace(admin, 'fwd');
  await ensureSandboxNode(admin);
  const pgPort = await freePort('127.0.0.11');
  const apiPort = await freePort('127.0.0.11');
  const members = { a: '127.0.0.11', b: '127.0.0.12' } as const;
  for (const [name, host] of Object.entries(members)) {
    await listen(createServer((s) => s.end(name)), host, pgPort);
    await listen(createHttpServer((_req, res) => res.writeHead(readiness[name] ? 200 : 503).end()), host, apiPort);
  }
  await admin.request({
    method: 'POST',
    path: `/api/v1/namespaces/${ns.name}/services`,
    body: {
      metadata: { name: 'db-primary' },
      spec: { selector: { app: 'db', role: 'primary' }, ports: [{ name: 'postgresql', port: 5432, targetPort: 'postgresql' }] },
    },
  });
  for (const [name, host] of Object.entries(members)) {
    const pod = new SimulatedPod({
      client: admin,
      namespace: ns.name,
      name,
      labels: name === 'a' ? { app: 'db', role: 'primary' } : { app: 'db' },
      podIp: host.replace('127.0.0.', '198.51.100.'),
      containerPorts: [{ name: 'postgresql', containerPort: pgPort }],
      readinessUrl: `http://${host}:${apiPort}/readiness`,
      probePeriodMs: 200,
    });
    await pod.create();
    pod.start();
    pods.push(pod);
  }
  forwarder = new ServiceForwarder({
    client: admin,
    namespace: ns.name,
    service: 'db-primary',
    portName: 'postgresql',
    listenHost: '127.0.0.1',
    listenPort: await freePort(),
    resolve: (ip) => (ip.startsWith('198.51.100.') ? ip.replace('198.51.100.', '127.0.0.') : undefined),
  });
  await forwarder.start();
});

afterAll(async () => {
  for (const p of pods) p.stop();
  await forwarder?.stop();
  for (const s of servers) s.close();
  await ns?.delete();
  admin?.close();
});

const forwarderPort = () => Number((forwarder as unknown as { props: { listenPort: number } }).props.listenPort);

it('routes to the member labelled primary once it is Ready', async () => {
  await eventually('traffic to a', async () => ((await banner(forwarderPort())) === 'a' ? true : undefined), 30_000);
});

it('follows the role label to another member', async () => {
  const patch = (name: string, role: string | null) =>
    admin.request({ method: 'PATCH', path: `/api/v1/namespaces/${ns.name}/pods/${name}`, contentType: MERGE_PATCH, body: { metadata: { labels: { role } } } });
  await patch('a', null);
  await patch('b', 'primary');
  await eventually('traffic to b', async () => ((await banner(forwarderPort())) === 'b' ? true : undefined), 30_000);
});

it('stops routing to a member whose readiness fails, as the kubelet would', async () => {
  readiness.b = false;
  await eventually('no ready endpoint', async () => (forwarder.targets().length === 0 ? true : undefined), 30_000);
  expect(await banner(forwarderPort())).toBe('');
});
