/**
 * Calls to a member's REST API (Patroni's endpoints), at the base of the `api_url` the member publishes. Unsafe
 * methods carry basic auth when credentials are configured. A network failure or timeout is reported as
 * `reachable: false`, never thrown, so callers can fall back (as patronictl does) or exit with code 4.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface MemberApiAnswer {
  readonly reachable: boolean;
  readonly status: number;
  /** The response body as text (Patroni's messages are plain text; some answers are JSON). */
  readonly body: string;
  /** Why the call failed when not reachable. */
  readonly error?: string;
}

export interface MemberApiOptions {
  readonly auth?: { readonly username: string; readonly password: string };
  readonly insecure?: boolean;
  readonly ca?: string;
}

/** `http://h:8008/patroni` → `http://h:8008/switchover`. */
export function endpointUrl(apiUrl: string, endpoint: string): URL {
  const u = new URL(apiUrl);
  return new URL(`/${endpoint}`, u.origin);
}

export function callMember(
  apiUrl: string,
  method: string,
  endpoint: string,
  body: unknown,
  timeoutMs: number,
  opts: MemberApiOptions = {},
): Promise<MemberApiAnswer> {
  let url: URL;
  try {
    url = endpointUrl(apiUrl, endpoint);
  } catch {
    return Promise.resolve({ reachable: false, status: 0, body: '', error: `invalid api_url ${JSON.stringify(apiUrl)}` });
  }
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { Accept: 'application/json, text/plain', 'User-Agent': 'pgha-ctl' };
  if (payload) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(payload.length);
  }
  if (opts.auth) headers.Authorization = `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(url, {
      method,
      headers,
      signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))),
      ...(url.protocol === 'https:' ? { rejectUnauthorized: !opts.insecure, ca: opts.ca } : {}),
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ reachable: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => resolve({ reachable: false, status: 0, body: '', error: err.message }));
    });
    req.on('error', (err) =>
      resolve({
        reachable: false,
        status: 0,
        body: '',
        error: err.name === 'AbortError' || err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : err.message,
      }),
    );
    req.end(payload);
  });
}
