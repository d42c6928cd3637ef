// No request can take the REST API down: malformed request lines, paths, methods, headers, bodies and encodings,
// sent over raw sockets to the real HTTP server, each get an HTTP answer (or a closed socket for what is not HTTP
// at all), and the server keeps serving. The backend here throws on every action, the worst an agent can do.
import { connect } from 'node:net';
import fc from 'fast-check';
import type { ApiBackend, ApiResult } from '../../../agent/src/api/backend';
import type { HealthFacts } from '../../../agent/src/api/health';
import { primaryFacts } from './health-facts';
import { ApiServer, parseTarget } from '../../../agent/src/api/http-server';
import { silentLogger } from '../../../agent/src/log/logger';

const facts: HealthFacts = { ...primaryFacts, lagBytes: 0 };

const boom = async (): Promise<ApiResult> => {
  throw new Error('the agent failed');
};

/** Reads answer fine; every action throws. */
const backend: ApiBackend = {
  statusJson: () => ({ state: 'running', role: 'primary' }),
  freshStatusJson: async () => ({ state: 'running', role: 'primary' }),
  healthFacts: () => facts,
  cluster: () => ({ members: [] }),
  history: () => [],
  config: () => ({ ttl: 30 }),
  patchConfig: boom,
  replaceConfig: boom,
  switchover: boom,
  cancelSwitchover: boom,
  restart: boom,
  cancelRestart: boom,
  reload: boom,
  reinitialize: boom,
  metrics: () => '',
  failsafeTopology: () => ({ a: 'http://127.0.0.1:1/patroni' }),
  failsafe: () => {
    throw new Error('the agent failed');
  },
};

/** Sends raw bytes and resolves with the status code of the answer, or 0 when the socket closed without one. */
function raw(port: number, bytes: Buffer | string): Promise<number> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let data = '';
    const done = () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : 0);
    };
    s.setTimeout(5000, () => s.destroy());
    s.on('data', (d) => {
      data += d.toString('latin1');
      if (/\r\n\r\n/.test(data)) s.end();
    });
    s.on('close', done);
    s.on('error', () => undefined);
    s.end(bytes);
  });
}

describe('REST API under malformed requests', () => {
  const server = new ApiServer({ listen: '127.0.0.1:0', backend, logger: silentLogger, authentication: { username: 'u', password: 'p' } });
  let port = 0;
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    await server.start();
    port = Number(server.address().split(':').pop());
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await server.stop();
  });
  afterEach(async () => {
    expect(unhandled).toEqual([]);
    // Still serving after whatever the test sent.
    expect(await raw(port, 'GET /patroni HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(200);
  });

  const auth = `Authorization: Basic ${Buffer.from('u:p').toString('base64')}\r\n`;

  it.each([
    ['GET // (a URL parser throws on it)', 'GET // HTTP/1.1\r\nHost: x\r\n\r\n', [200, 503, 404]],
    ['GET ///', 'GET /// HTTP/1.1\r\nHost: x\r\n\r\n', [200, 503, 404]],
    ['GET //[', 'GET //[ HTTP/1.1\r\nHost: x\r\n\r\n', [404]],
    ['a bad percent-encoding', 'GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n', [400]],
    ['an absolute-form target', 'GET http://x/patroni HTTP/1.1\r\nHost: x\r\n\r\n', [400]],
    ['a prototype key as endpoint', 'GET /constructor HTTP/1.1\r\nHost: x\r\n\r\n', [404]],
    ['a prototype key as method', 'constructor /patroni HTTP/1.1\r\nHost: x\r\n\r\n', [400, 501]],
    ['an unknown method', 'BREW /coffee HTTP/1.1\r\nHost: x\r\n\r\n', [400, 501]],
    ['a garbage request line', '\u0000\u0001\u0002 nonsense\r\n\r\n', [0, 400]],
    ['a header without a colon', 'GET /patroni HTTP/1.1\r\nHost x\r\n\r\n', [400]],
    ['a Content-Length that lies', `PATCH /config HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 100\r\n\r\n{}`, [0, 400, 503]],
    ['a negative Content-Length', `PATCH /config HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: -1\r\n\r\n`, [400]],
    ['broken chunked encoding', `POST /switchover HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\nzz\r\n`, [0, 400]],
    ['a body that is not JSON', `PATCH /config HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 5\r\n\r\n{"ttl`, [400]],
    ['a JSON array body', `PATCH /config HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 2\r\n\r\n[]`, [400]],
    [
      'a body of invalid UTF-8',
      Buffer.concat([Buffer.from(`POST /failover HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 4\r\n\r\n`), Buffer.from([0xff, 0xfe, 0xfd, 0xfc])]),
      [400],
    ],
    ['an action the agent fails', `POST /reload HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 0\r\n\r\n`, [503]],
    ['credentials that are not base64', 'POST /reload HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ***\r\n\r\n', [401]],
  ])('%s', async (_name, request, allowed) => {
    expect(allowed).toContain(await raw(port, request));
  });

  it('answers every generated request with an HTTP status or a closed socket, and keeps serving', async () => {
    const method = fc.oneof(
      fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT'),
      fc.stringMatching(/^[A-Za-z_]{1,12}$/),
    );
    const pathChar = fc.constantFrom(
      '/',
      '/',
      '[',
      ']',
      '%',
      '%2',
      '%zz',
      '?',
      '&',
      '=',
      '#',
      '..',
      'patroni',
      'config',
      'switchover',
      '\u00e9',
      ' ',
      '\t',
      ':',
      '@',
    );
    const path = fc.array(pathChar, { maxLength: 12 }).map((parts) => parts.join(''));
    const body = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json(),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    const header = fc.oneof(
      fc.constant(''),
      fc.constant(auth),
      fc.constant('Content-Type: application/json\r\n'),
      fc.constant('Transfer-Encoding: chunked\r\n'),
      fc.stringMatching(/^[ -~]{0,40}\r\n$/),
    );
    await fc.assert(
      fc.asyncProperty(method, path, fc.array(header, { maxLength: 3 }), body, async (m, p, headers, b) => {
        const payload = Buffer.from(b, 'latin1');
        const request = Buffer.concat([
          Buffer.from(`${m} ${p || '/'} HTTP/1.1\r\nHost: x\r\n${headers.join('')}Content-Length: ${payload.length}\r\n\r\n`, 'latin1'),
          payload,
        ]);
        const status = await raw(port, request);
        return status === 0 || (status >= 200 && status < 600);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseTarget', () => {
  it.each([
    ['/', { path: '', pathname: '/', query: {} }],
    ['/replica?lag=1MB&x', { path: 'replica', pathname: '/replica', query: { lag: '1MB', x: '' } }],
    ['//', { path: '', pathname: '//', query: {} }],
    ['//[', { path: '[', pathname: '//[', query: {} }],
    ['/a%2Fb/c', { path: 'a/b', pathname: '/a%2Fb/c', query: {} }],
    ['/x?bad=%zz', { path: 'x', pathname: '/x', query: { bad: '%zz' } }],
  ])('%s', (target, want) => {
    expect(parseTarget(target)).toEqual(want);
  });

  it.each(['*', 'http://x/', '/%zz', ''])('refuses %j', (target) => {
    expect(parseTarget(target)).toBeNull();
  });
});
