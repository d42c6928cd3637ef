import type { Client } from 'pg';
import { TransientError } from '../errors';
import type { Logger } from './logger';
import { CONNECT_TIMEOUT_MS, classifyCallError, connectLocal, type LocalConnection, STATEMENT_TIMEOUT_MS } from './sql';

export interface LocalSessionOptions {
  /** The server-side bound on each statement (set once, when the session connects). @default 10 s */
  readonly statementTimeoutMs?: number;
  /**
   * The client-side bound on a whole call, for a server that does not answer at all (stopped, swapped out), where
   * no statement timeout fires. A call past it closes the session. @default the statement timeout plus 5 s
   */
  readonly callDeadlineMs?: number;
}

/**
 * One long-lived session to the local Postgres, shared by the agent's routine calls (the HA loop's snapshot, slots,
 * settings), as Patroni keeps one: a new backend per call cost more CPU than the agent itself (issue 18).
 *
 * Calls run one at a time, in the order they were made, so the statements of two callers never interleave and a
 * transaction inside `fn` is its caller's alone. `fn` must leave session settings as it found them (a call that
 * needs its own settings uses `withClient`). The session is closed, never reused, after any error in a call, after a
 * call that outlived its deadline or left a transaction open, and when the server ends it (a restart, a crash, a
 * terminated backend); the next call connects again, so a failure shows only in the call that met it.
 */
export class LocalSession {
  private client: Client | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly statementTimeoutMs: number;
  private readonly callDeadlineMs: number;
  private connections = 0;

  constructor(
    private readonly conn: LocalConnection,
    private readonly logger: Logger,
    opts: LocalSessionOptions = {},
  ) {
    this.statementTimeoutMs = opts.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS;
    this.callDeadlineMs = opts.callDeadlineMs ?? this.statementTimeoutMs + CONNECT_TIMEOUT_MS;
  }

  /** How many connections this session has opened so far (one while nothing breaks it). */
  get opened(): number {
    return this.connections;
  }

  /** Runs `fn` on the session once the calls before it are done. Errors are classified as withClient's are. */
  run<T>(what: string, fn: (client: Client) => Promise<T>): Promise<T> {
    const call = this.tail.then(() => this.runNow(what, fn));
    // The queue only orders calls; the call's own outcome reaches its caller through `call`.
    this.tail = call.then(
      () => undefined,
      () => undefined,
    );
    return call;
  }

  /**
   * Closes the session (before Postgres is stopped on purpose, and on shutdown), so it holds up no smart shutdown.
   * A call in flight fails as it would if the server went away; the next call connects again.
   */
  close(reason: string): void {
    if (this.client) this.discard(this.client, reason);
  }

  private async runNow<T>(what: string, fn: (client: Client) => Promise<T>): Promise<T> {
    const client = this.client ?? (await this.connect(what));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TransientError(`postgres ${what} did not finish in time`, { operation: what, deadlineMs: this.callDeadlineMs })),
        this.callDeadlineMs,
      );
    });
    try {
      const result = await Promise.race([fn(client), deadline]);
      if (client.getTransactionStatus() !== 'I') this.discard(client, `${what} left a transaction open`);
      return result;
    } catch (err) {
      // Whatever failed, the connection may be broken or inside a transaction: it is not used again.
      this.discard(client, `${what} failed`);
      throw classifyCallError(what, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private async connect(what: string): Promise<Client> {
    this.connections++;
    const client = await connectLocal(this.conn, what, this.statementTimeoutMs);
    // The server ended it (a restart, a crash, pg_terminate_backend): the next call connects again.
    client.once('end', () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.logger.info('postgres ended the agent session; the next call opens a new one', {});
    });
    this.client = client;
    return client;
  }

  private discard(client: Client, reason: string): void {
    if (this.client === client) this.client = undefined;
    // end() says goodbye to an idle server and cuts the socket of one that is busy or gone; nothing waits for it.
    client.end().catch((err: unknown) => this.logger.warn('could not close the local postgres session', { reason, error: String(err) }));
  }
}
