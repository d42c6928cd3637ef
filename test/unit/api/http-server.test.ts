// The REST API over real HTTP(S) on loopback, with a recording backend standing in for the agent (the component
// under test is the HTTP layer: routing, authentication, TLS, limits and Patroni's status codes).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailsafeClient } from '../../../agent/src/loop/failsafe-client';
import type { ApiBackend, ApiResult, FailsafeRequestBody, SwitchoverRequest } from '../../../agent/src/api/backend';
import type { HealthFacts } from '../../../agent/src/api/health';
import { ApiServer } from '../../../agent/src/api/http-server';
import { silentLogger } from '../../../agent/src/log/logger';

const facts: HealthFacts = {
  role: 'replica',
  state: 'running',
  holdsLock: false,
  standbyCluster: false,
  paused: false,
  noloadbalance: false,
  tags: {},
  replicationState: 'streaming',
  lagBytes: 0,
  syncStandby: false,
  msSinceLastLoop: 0,
  ttlMs: 30_000,
  maximumLagOnFailover: 1048576,
};

class RecordingBackend implements ApiBackend {
  switchovers: SwitchoverRequest[] = [];
  statusJson() {
    return { state: 'running', role: 'replica' };
  }
  async freshStatusJson() {
    return this.statusJson();
  }
  healthFacts() {
    return facts;
  }
  cluster() {
    return { members: [] };
  }
  history() {
    return [[1, 100, 'no recovery target specified', '2030-01-01T00:00:00+00:00', 'a']];
  }
  config() {
    return null;
  }
  async patchConfig(): Promise<ApiResult> {
    return { status: 200, body: {} };
  }
  async replaceConfig(): Promise<ApiResult> {
    return { status: 200, body: {} };
  }
  async switchover(req: SwitchoverRequest): Promise<ApiResult> {
    this.switchovers.push(req);
    return { status: 200, body: `Successfully switched over to "${req.candidate}"` };
  }
  async cancelSwitchover(): Promise<ApiResult> {
    return { status: 404, body: 'No pending scheduled switchover' };
  }
  async restart(): Promise<ApiResult> {
    throw new Error('postgres is unreachable');
  }
  async cancelRestart(): Promise<ApiResult> {
    return { status: 404, body: 'no scheduled restart' };
  }
  async reload(): Promise<ApiResult> {
    return { status: 202, body: 'reload scheduled' };
  }
  async reinitialize(): Promise<ApiResult> {
    return { status: 200, body: 'reinitialize started' };
  }
  metrics() {
    return '# TYPE patroni_primary gauge\npatroni_primary 0\n';
  }
  failsafeRequests: FailsafeRequestBody[] = [];
  failsafeTopology() {
    return null;
  }
  failsafe(req: FailsafeRequestBody): ApiResult {
    this.failsafeRequests.push(req);
    return { status: 200, body: 'Accepted', headers: { 'x-pgha-failsafe-promise-ms': '30000' } };
  }
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(base: string, method: string, path: string, opts: { body?: string; auth?: string; ca?: string } = {}): Promise<Reply> {
  const url = new URL(path, base);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    const req = send(url, { method, headers, ca: opts.ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('ApiServer over HTTP', () => {
  const backend = new RecordingBackend();
  const server = new ApiServer({ listen: '127.0.0.1:0', backend, logger: silentLogger, authentication: { username: 'admin', password: 's3cret' } });
  let base = '';
  beforeAll(async () => {
    await server.start();
    base = `http://${server.address()}`;
  });
  afterAll(() => server.stop());

  it('takes a failsafe request from an authenticated leader and states the promise in a header', async () => {
    expect((await call(base, 'POST', '/failsafe', { body: '{"name":"m0"}' })).status).toBe(401);
    const client = new FailsafeClient({
      self: { name: 'm0', connUrl: 'postgres://192.0.2.1:5432/postgres', apiUrl: 'http://192.0.2.1:8008/patroni' },
      auth: { username: 'admin', password: 's3cret' },
    });
    expect(await client.ask({ m1: `${base}/patroni` }, 10_000, 2_000)).toEqual([{ name: 'm1', promisedMs: 30_000 }]);
    expect(backend.failsafeRequests.at(-1)).toEqual({ name: 'm0', ttlSeconds: 10 });
    const wrongAuth = new FailsafeClient({ self: { name: 'm0', connUrl: '', apiUrl: '' }, auth: { username: 'admin', password: 'nope' } });
    expect(await wrongAuth.ask({ m1: `${base}/patroni` }, 10_000, 2_000)).toEqual([{ name: 'm1', promisedMs: null }]);
    const bad = await call(base, 'POST', '/failsafe', { body: '{"name":"m0","ttl":-1}', auth: 'admin:s3cret' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/ttl must be a number of seconds above 0 and at most 3600; got -1/);
    expect((await call(base, 'POST', '/failsafe', { body: '{}', auth: 'admin:s3cret' })).body).toMatch(/name must be/);
    expect(await call(base, 'GET', '/failsafe')).toMatchObject({ status: 502, body: 'failsafe_mode is not enabled' });
  });

  it('answers health checks with Patroni status codes and the status body', async () => {
    const primary = await call(base, 'GET', '/primary');
    expect(primary.status).toBe(503);
    expect(JSON.parse(primary.body)).toEqual({ state: 'running', role: 'replica' });
    expect((await call(base, 'GET', '/replica?lag=1MB')).status).toBe(200);
    expect((await call(base, 'GET', '/')).status).toBe(503);
  });

  it('answers HEAD and OPTIONS with the status only', async () => {
    const head = await call(base, 'HEAD', '/replica');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect((await call(base, 'OPTIONS', '/primary')).status).toBe(503);
  });

  it('serves history as JSON and metrics as Prometheus text', async () => {
    const history = await call(base, 'GET', '/history');
    expect(history.headers['content-type']).toBe('application/json');
    expect(JSON.parse(history.body)[0][0]).toBe(1);
    const metrics = await call(base, 'GET', '/metrics');
    expect(metrics.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(metrics.body).toContain('patroni_primary 0');
  });

  it('answers 502 for /config while the cluster has no configuration', async () => {
    expect((await call(base, 'GET', '/config')).status).toBe(502);
  });

  it('answers 404 naming the endpoint for unknown routes, and 501 for unknown methods', async () => {
    const r = await call(base, 'GET', '/nope');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body).error).toBe('unknown endpoint GET /nope');
    expect((await call(base, 'POST', '/nope', { auth: 'admin:s3cret' })).status).toBe(404);
    expect((await call(base, 'TRACE', '/patroni')).status).toBe(501);
  });

  it('refuses unsafe methods without the right credentials and never calls the backend', async () => {
    const before = backend.switchovers.length;
    const none = await call(base, 'POST', '/switchover', { body: '{"leader":"a","candidate":"b"}' });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic realm="pgha"');
    expect((await call(base, 'POST', '/switchover', { body: '{"leader":"a","candidate":"b"}', auth: 'admin:wrong' })).status).toBe(401);
    expect((await call(base, 'POST', '/switchover', { body: '{"leader":"a","candidate":"b"}', auth: 'other:s3cret' })).status).toBe(401);
    expect(backend.switchovers.length).toBe(before);
  });

  it('passes a valid switchover to the agent and returns its answer', async () => {
    const r = await call(base, 'POST', '/switchover', { body: '{"leader":"a","candidate":"b"}', auth: 'admin:s3cret' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('Successfully switched over to "b"');
    expect(backend.switchovers.at(-1)).toEqual({ action: 'switchover', endpoint: 'switchover', leader: 'a', candidate: 'b', scheduledAt: undefined });
  });

  it('answers 400 with a message for bad bodies', async () => {
    const r = await call(base, 'POST', '/failover', { body: '{"leader":"a"', auth: 'admin:s3cret' });
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/^request body is not valid JSON/);
    const r2 = await call(base, 'POST', '/failover', { body: '{}', auth: 'admin:s3cret' });
    expect(r2).toMatchObject({ status: 400, body: 'Failover could be performed only to a specific candidate' });
  });

  it('answers 503 with the cause when the agent fails a request', async () => {
    const r = await call(base, 'POST', '/restart', { auth: 'admin:s3cret' });
    expect(r).toMatchObject({ status: 503, body: 'request failed: postgres is unreachable' });
  });

  it('refuses bodies over 1 MiB with 413', async () => {
    const r = await call(base, 'PATCH', '/config', { body: `{"x":"${'a'.repeat(1024 * 1024)}"}`, auth: 'admin:s3cret' });
    expect(r.status).toBe(413);
  });
});

describe('ApiServer with restapi.authentication.password_file', () => {
  it('takes the password the file holds now: a rotated Secret needs no restart; an emptied file keeps the last', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgha-api-pw-'));
    const file = join(dir, 'restapi-password');
    writeFileSync(file, 'first\n');
    const warnings: unknown[] = [];
    const logger = { ...silentLogger, warn: (msg: string, fields?: unknown) => warnings.push({ msg, fields }) };
    const server = new ApiServer({
      listen: '127.0.0.1:0',
      backend: new RecordingBackend(),
      logger,
      authentication: { username: 'admin', password: 'first', passwordFile: file },
    });
    await server.start();
    try {
      const base = `http://${server.address()}`;
      const reload = (auth: string) => call(base, 'POST', '/reload', { auth }).then((r) => r.status);
      expect(await reload('admin:first')).toBe(202);
      writeFileSync(file, 'second\n');
      expect(await reload('admin:first')).toBe(401);
      expect(await reload('admin:second')).toBe(202);
      writeFileSync(file, '');
      expect(await reload('admin:second')).toBe(202);
      expect(await reload('admin:second')).toBe(202);
      expect(warnings).toEqual([{ msg: 'the REST API password file cannot be used; keeping the password in force', fields: { file, why: 'empty' } }]);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ApiServer over HTTPS', () => {
  it('serves TLS with the configured certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgha-api-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const server = new ApiServer({
      listen: '127.0.0.1:0',
      backend: new RecordingBackend(),
      logger: silentLogger,
      certfile: join(dir, 'cert.pem'),
      keyfile: join(dir, 'key.pem'),
    });
    await server.start();
    try {
      const r = await call(`https://${server.address()}`, 'GET', '/patroni', { ca: readFileSync(join(dir, 'cert.pem'), 'utf8') });
      expect(r.status).toBe(200);
      await expect(call(`https://${server.address()}`, 'GET', '/patroni')).rejects.toThrow(/self-signed|unable to verify/);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
