import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../../agent/src/kube/kube-client';
import { makePki } from '../../control-plane/pki';

describe('KubeClient response headers', () => {
  let server: Server;
  let client: KubeClient;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgha-headers-'));
    const pki = makePki(dir, ['127.0.0.1']);
    server = createServer({ cert: readFileSync(pki.servingCert), key: readFileSync(pki.servingKey) }, (req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Warning', ['299 - "first"', '299 - "second"']);
      res.end(JSON.stringify({ kind: 'Status', path: req.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    client = new KubeClient({ server: `https://127.0.0.1:${port}`, caPem: readFileSync(pki.caCert, 'utf8') });
  });

  afterAll(async () => {
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('exposes every Warning header next to the unchanged status and body', async () => {
    const res = await client.request<{ path: string }>({ method: 'GET', path: '/api/v1/x' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ kind: 'Status', path: '/api/v1/x' });
    expect(res.headers?.warning).toEqual(['299 - "first"', '299 - "second"']);
  });
});
