// A client that writes through the primary Service as an application would: one short INSERT transaction after
// another, reconnecting on a fresh connection whenever the current one fails. It records when each commit was
// acknowledged, so the write outage of an event is the longest gap between acknowledged commits around it.
import { Client } from 'pg';

export interface WriterTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** Short timeouts: a client that waits long on a dead primary would measure its own patience, not the failover. */
const CONNECT_TIMEOUT_MS = 1000;
const QUERY_TIMEOUT_MS = 1000;
/** Pause after a failed attempt, so a refused connection does not spin the CPU the agents need. */
const RETRY_PAUSE_MS = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Writer {
  /** `performance.now()` of every acknowledged commit. */
  readonly acks: number[] = [];
  errors = 0;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly target: WriterTarget) {}

  async prepare(): Promise<void> {
    const c = this.client();
    await c.connect();
    try {
      await c.query('CREATE TABLE IF NOT EXISTS bench_writes (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
    } finally {
      await c.end();
    }
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The longest gap between consecutive acknowledged commits that ends after `from` (ms). */
  outageAfter(from: number): number {
    let worst = 0;
    for (let i = 1; i < this.acks.length; i++) {
      if (this.acks[i]! < from) continue;
      worst = Math.max(worst, this.acks[i]! - this.acks[i - 1]!);
    }
    return worst;
  }

  /** Whether a commit was acknowledged after `t`. */
  ackedAfter(t: number): boolean {
    return this.acks.length > 0 && this.acks[this.acks.length - 1]! > t;
  }

  private client(): Client {
    const t = this.target;
    return new Client({ host: t.host, port: t.port, user: t.user, password: t.password, database: 'postgres', connectionTimeoutMillis: CONNECT_TIMEOUT_MS, query_timeout: QUERY_TIMEOUT_MS });
  }

  private async run(): Promise<void> {
    let c: Client | undefined;
    while (this.running) {
      try {
        if (!c) {
          c = this.client();
          // An error event after a failed query must not crash the process; the failed query already told us.
          c.on('error', () => undefined);
          await c.connect();
        }
        await c.query('INSERT INTO bench_writes DEFAULT VALUES');
        this.acks.push(performance.now());
      } catch {
        this.errors++;
        const dead = c;
        c = undefined;
        void dead?.end().catch(() => undefined);
        await sleep(RETRY_PAUSE_MS);
      }
    }
    await c?.end().catch(() => undefined);
  }
}
