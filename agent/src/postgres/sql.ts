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
export const CONNECT_TIMEOUT_MS = 5000;
/** Bound on ordinary queries, so a stuck backend cannot stall the HA loop. Long calls pass their own. */
export const STATEMENT_TIMEOUT_MS = 10_000;

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

/** An error thrown by a caller's `fn`: the agent's own errors and programming errors (a bad argument) pass as they are. */
export function classifyCallError(what: string, err: unknown): unknown {
  const own = [FatalError, TransientError, ConflictError, ConfigError, RangeError, TypeError];
  if (own.some((cls) => err instanceof cls)) return err;
  return classifySqlError(what, err);
}

/** A client for the local socket, not yet connected. `statementTimeoutMs` 0: no bound. */
export function localClient(conn: LocalConnection, statementTimeoutMs: number): Client {
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
  return client;
}

/** Connects `client`; a failure is thrown classified, and the client closed. */
export async function connectLocal(client: Client, what: string): Promise<void> {
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw classifySqlError(`connection for ${what}`, err);
  }
}

/**
 * Opens a connection of its own, runs `fn`, and always closes it: for the rare calls that are long (a promotion, a
 * checkpoint) or change session settings (creating the replication role). The agent's routine calls share one
 * session instead (LocalSession), so they do not cost a new backend each.
 */
export async function withClient<T>(
  conn: LocalConnection,
  what: string,
  fn: (client: Client) => Promise<T>,
  statementTimeoutMs: number = STATEMENT_TIMEOUT_MS,
): Promise<T> {
  const client = localClient(conn, statementTimeoutMs);
  await connectLocal(client, what);
  try {
    return await fn(client);
  } catch (err) {
    throw classifyCallError(what, err);
  } finally {
    await client.end().catch(() => undefined);
  }
}
