import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Where test ports come from: below the kernel's ephemeral range. A port the kernel handed out for `listen(0)` lies
 * inside that range, so between our check and the server's own bind any outgoing connection could take it as its
 * source port (a PostgreSQL member then failed to start with "Address already in use" for as long as that
 * connection lived). Ports below the range are never picked by the kernel.
 */
function portRange(): { low: number; high: number } {
  let ephemeralLow = 32768;
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(first)) ephemeralLow = first;
  } catch (err) {
    // Not Linux, or /proc unreadable: the default ephemeral range's start.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
  }
  const high = ephemeralLow - 1;
  const low = Math.max(10000, high - 12000);
  if (high - low < 1000) throw new Error(`ip_local_port_range starts at ${ephemeralLow}: too few ports below it for tests (need 1000 above 10000)`);
  return { low, high };
}

const RANGE = portRange();
/** Ports this process handed out already: never twice, even once their first user has closed them. */
const handedOut = new Set<number>();

/** A TCP port that was free on `host` a moment ago, below the ephemeral range. The caller reports a clear error if it is taken meanwhile. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = RANGE.low + Math.floor(Math.random() * (RANGE.high - RANGE.low + 1));
    if (handedOut.has(port)) continue;
    // Reserved before the check, so concurrent callers in this process never get the same port.
    handedOut.add(port);
    if (!(await portInUse(host, port))) return port;
    handedOut.delete(port);
  }
  throw new Error(`no free port on ${host} between ${RANGE.low} and ${RANGE.high} after 500 tries`);
}

/** Resolves true when host:port cannot be bound (something listens there, or a connection holds it). */
export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(true));
    srv.listen(port, host, () => srv.close(() => resolve(false)));
  });
}
