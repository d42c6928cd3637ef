import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Credentials } from '../config/agent-config';
import { followedPassword } from '../config/followed-password';
import type { FailsafeAnswer } from '../core/failsafe';

/** The header in which a member states the promise it made (ms); an answer without it promises nothing. */
export const PROMISE_HEADER = 'x-pgha-failsafe-promise-ms';

export interface FailsafeClientProps {
  /** What the request says about the leader (Patroni's body: `name`, `conn_url`, `api_url`). */
  readonly self: { readonly name: string; readonly connUrl: string; readonly apiUrl: string };
  /**
   * REST API credentials of the cluster, sent as basic auth (members require them for POST); a `passwordFile` is
   * read at each request, as the REST API reads it (which also reports a file it cannot use).
   */
  readonly auth?: Credentials;
}

/** Where a member answers `POST /failsafe`, from the `api_url` it publishes (which ends in `/patroni`). */
export function failsafeUrl(apiUrl: string): string {
  const u = new URL(apiUrl);
  u.pathname = u.pathname.replace(/\/patroni\/?$/, '') + '/failsafe';
  return u.toString();
}

/** Asks members for failsafe promises over their REST API (`POST /failsafe`). */
export class FailsafeClient {
  private readonly password: (() => string) | undefined;

  constructor(private readonly props: FailsafeClientProps) {
    this.password = props.auth && followedPassword(props.auth, () => undefined);
  }

  /** Asks every member in `peers` (name → REST API URL) at once for a promise of `ttlMs`; never throws. */
  ask(peers: Readonly<Record<string, string>>, ttlMs: number, timeoutMs: number): Promise<FailsafeAnswer[]> {
    const { name, connUrl, apiUrl } = this.props.self;
    const body = JSON.stringify({ name, conn_url: connUrl, api_url: apiUrl, ttl: ttlMs / 1000 });
    return Promise.all(Object.entries(peers).map(async ([peer, url]) => ({ name: peer, promisedMs: await this.post(url, body, timeoutMs) })));
  }

  private post(apiUrl: string, body: string, timeoutMs: number): Promise<number | null> {
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(failsafeUrl(apiUrl));
      } catch {
        resolve(null);
        return;
      }
      const { auth } = this.props;
      const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
      if (auth && this.password) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${this.password()}`).toString('base64')}`;
      const fn = url.protocol === 'https:' ? httpsRequest : httpRequest;
      // Members serve certificates for their pod IPs that no CA we hold may have signed (as for the race's GETs).
      const req = fn(url, { method: 'POST', headers, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
        res.resume();
        const promised = Number(res.headers[PROMISE_HEADER]);
        res.on('end', () => resolve(res.statusCode === 200 && Number.isFinite(promised) ? promised : null));
        res.on('error', () => resolve(null));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(null));
      req.end(body);
    });
  }
}
