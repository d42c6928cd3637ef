import { Client, type ClientConfig } from 'pg';
import { ConfigError, ConflictError, FatalError, TransientError } from '../errors';

/** How the agent reaches its own Postgres: the unix socket in the run directory, as the superuser. */
export interface LocalConnection {
  readonly socketDir: string;
  readonly port: number;
  readonly superuser: string;
  /**
   * The superuser passwords to try, in order: the one in force, then, while a rotation is under way, the one before
   * it (the database may not have the new one yet). Asked at each connect.
   */
  passwords(): readonly string[];
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

/** The SQLSTATE of a wrong password (`invalid_password`). */
const INVALID_PASSWORD = '28P01';

/** A client for the local socket, not yet connected. `statementTimeoutMs` 0: no bound. */
function localClient(conn: LocalConnection, password: string, statementTimeoutMs: number): Client {
  const config: ClientConfig = {
    host: conn.socketDir,
    port: conn.port,
    user: conn.superuser,
    password,
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

/**
 * A connected client for the local socket. Each of the connection's passwords is tried in turn while the server
 * refuses the password itself; any other failure is thrown classified at once, the client closed.
 */
export async function connectLocal(conn: LocalConnection, what: string, statementTimeoutMs: number): Promise<Client> {
  const passwords = conn.passwords();
  for (let i = 0; ; i++) {
    const client = localClient(conn, passwords[i] ?? '', statementTimeoutMs);
    try {
      await client.connect();
      return client;
    } catch (err) {
      await client.end().catch(() => undefined);
      if ((err as { code?: string }).code === INVALID_PASSWORD && i + 1 < passwords.length) continue;
      throw classifySqlError(`connection for ${what}`, err);
    }
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
  const client = await connectLocal(conn, what, statementTimeoutMs);
  try {
    return await fn(client);
  } catch (err) {
    throw classifyCallError(what, err);
  } finally {
    await client.end().catch(() => undefined);
  }
}
