import { Client, type ClientConfig } from 'pg';
import { ConfigError, ConflictError, FatalError, TransientError } from '../errors';
import type { Credentials } from '../config/agent-config';

/** How the agent reaches its own Postgres: the unix socket in the run directory, as the superuser. */
export interface LocalConnection {
  readonly socketDir: string;
  readonly port: number;
  readonly superuser: Credentials;
}

/** A refused or stalled connection to a local socket means Postgres is down or busy; a few seconds tell. */
const CONNECT_TIMEOUT_MS = 5000;
/** Bound on ordinary queries, so a stuck backend cannot stall the HA loop. Long calls pass their own. */
const STATEMENT_TIMEOUT_MS = 10_000;

/** SQLSTATE classes that repeating cannot fix: authorization (28), syntax or access (42), configuration (F0). */
const FATAL_SQLSTATE_CLASSES = new Set(['28', '42', 'F0']);

/** Wraps a driver error in the agent's classes, keeping the SQLSTATE. */
export function classifySqlError(what: string, err: unknown): Error {
  const code = (err as { code?: string }).code;
  const details = { operation: what, sqlstate: code, error: err instanceof Error ? err.message : String(err) };
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && FATAL_SQLSTATE_CLASSES.has(code.slice(0, 2))) {
    return new FatalError(`postgres refused ${what}`, details, { cause: err });
  }
  return new TransientError(`postgres ${what} failed`, details, { cause: err });
}

/**
 * Opens a connection, runs `fn`, and always closes it. One short-lived connection per call: the loop runs every few
 * seconds and a local socket connection costs well under a millisecond, while a cached one would need its own
 * health checks after every restart.
 */
export async function withClient<T>(
  conn: LocalConnection,
  what: string,
  fn: (client: Client) => Promise<T>,
  statementTimeoutMs: number = STATEMENT_TIMEOUT_MS,
): Promise<T> {
  const config: ClientConfig = {
    host: conn.socketDir,
    port: conn.port,
    user: conn.superuser.username,
    password: conn.superuser.password,
    database: 'postgres',
    application_name: 'pgha',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: statementTimeoutMs === 0 ? undefined : statementTimeoutMs,
  };
  const client = new Client(config);
  // A server that dies mid-call raises an 'error' event besides rejecting the query; without a listener it would crash the agent.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw classifySqlError(`connection for ${what}`, err);
  }
  try {
    return await fn(client);
  } catch (err) {
    // The agent's own errors, and programming errors (a bad argument), are not the server's doing.
    const own = [FatalError, TransientError, ConflictError, ConfigError, RangeError, TypeError];
    if (own.some((cls) => err instanceof cls)) throw err;
    throw classifySqlError(what, err);
  } finally {
    await client.end().catch(() => undefined);
  }
}
