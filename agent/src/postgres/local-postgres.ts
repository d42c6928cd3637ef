import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentConfig, PgRole } from '../config/agent-config';
import { ConfigError, FatalError, TransientError } from '../errors';
import { ensureReplicationRole, runInitdb } from './bootstrap';
import type { SettingValue } from './conf-file';
import { passfileLine, primaryConninfo, type Upstream } from './conninfo';
import { assertSameCluster, type DataDirState, emptyDataDir, inspectDataDir, livePostmasterPid } from './data-dir';
import { renderHba } from './hba';
import type { Logger } from './logger';
import { setStandbySignal, writeOwnedFile, writeSettingsFile } from './owned-files';
import { type PostmasterEvent, Postmaster, type StopMode, type StopResult } from './postmaster';
import { runBasebackup, runRewind } from './replica';
import { handOver, type RunAs } from './run-as';
import { baseSettings, normalizeParameters, parseListen, replaceSettings, type SettingsChange } from './settings';
import { readServerFacts, type ServerFacts } from './snapshot';
import { ensureCleanShutdown } from './crash-recovery';
import { stopStrayPostmaster } from './stray-postmaster';
import { slotNameForMember } from './slot-name';
import { advanceSlot, createPhysicalSlot, dropSlot, listSlots, type ReplicationSlot } from './slots';
import { LocalSession } from './session';
import { AGENT_ROLES, type AgentRole, type PasswordReread, RolePasswords } from './role-passwords';
import { scramSha256Verifier, verifierAccepts } from './scram';
import { type LocalConnection, withClient } from './sql';

export interface LocalPostgresProps {
  readonly postgresql: AgentConfig['postgresql'];
  /** This member's name: the standby's application_name and, sanitized, its slot name. */
  readonly memberName: string;
  /** A directory only the agent and Postgres use: the unix socket, the password file, temporary files. */
  readonly runDir: string;
  readonly logger: Logger;
  /** @default - Postgres and its tools run as the agent's own user (the container case) */
  readonly runAs?: RunAs;
  /** @default false - Postgres outlives an agent crash; tests set true so nothing survives a killed test run */
  readonly killWithAgent?: boolean;
  /** @default 'C.UTF-8' */
  readonly locale?: string;
}

/** Passed to every operation that touches an existing data directory. */
export interface GuardOptions {
  /** The cluster's system identifier (the `initialize` annotation); a data directory of another cluster is refused. */
  readonly expectedSystemIdentifier?: string;
}

/** What the HA loop sees of the local Postgres, read in one call. */
export interface PostgresSnapshot {
  /** The postmaster runs as this agent's child. */
  readonly running: boolean;
  readonly pid?: number;
  /** It answered queries; `server` holds the answers. */
  readonly accepting: boolean;
  readonly server?: ServerFacts;
  /** Why it did not answer (starting up, crash recovery, overloaded). */
  readonly error?: string;
  /** When not running: what is on disk. */
  readonly dataDir?: DataDirState;
}

/** Start-up includes crash recovery, which after a hard stop of a busy primary may replay a lot of WAL. */
const START_TIMEOUT_MS = 120_000;
/** A base backup copies the whole cluster; the bound only catches a hung transfer. */
const CLONE_TIMEOUT_MS = 60 * 60_000;
const REWIND_TIMEOUT_MS = 30 * 60_000;

/**
 * The PostgreSQL adapter: the one local Postgres this agent manages. Every method is safe to repeat: it does the
 * same again, finds the work done, or refuses with a clear error. Nothing runs in the constructor.
 */
export class LocalPostgres {
  private readonly postmaster: Postmaster;
  private readonly pg: AgentConfig['postgresql'];
  /** Client lines of pg_hba.conf in force (see applyHba); undefined: the agent's catch-all. */
  private clientHba: readonly string[] | undefined;
  /** The one session the routine calls share; the rare long ones open their own (withClient). */
  private readonly session: LocalSession;
  /** The superuser and replication passwords in force (they follow their password files). */
  private readonly passwords: RolePasswords;
  /** A password changed since the password file was last written. */
  private passfileStale = false;

  constructor(private readonly props: LocalPostgresProps) {
    this.pg = props.postgresql;
    this.clientHba = props.postgresql.pgHba;
    this.passwords = new RolePasswords({ superuser: this.pg.superuser, replication: this.pg.replication }, (p) => readFileSync(p, 'utf8'));
    this.postmaster = new Postmaster({ ...this.spawning(), binDir: this.pg.binDir, dataDir: this.pg.dataDir, cwd: props.runDir, logger: props.logger });
    this.session = new LocalSession(this.connection(), props.logger);
    // A postmaster that exited took the session's backend with it.
    this.postmaster.onEvent((e) => {
      if (e.type === 'exited') this.session.close('postgres exited');
    });
  }

  /** The physical slot this member streams from on the primary. */
  get slotName(): string {
    return slotNameForMember(this.props.memberName);
  }

  get pid(): number | undefined {
    return this.postmaster.pid;
  }

  /** Postmaster events: `started`, and `exited` with `expected: false` for a crash. Returns the unsubscribe function. */
  onEvent(listener: (e: PostmasterEvent) => void): () => void {
    return this.postmaster.onEvent(listener);
  }

  inspectDataDir(): Promise<DataDirState> {
    return inspectDataDir({ ...this.spawning(), binDir: this.pg.binDir, dataDir: this.pg.dataDir, cwd: this.props.runDir });
  }

  /**
   * Initializes a new cluster and leaves it running as a primary: initdb, the owned configuration, start, the
   * replication role. Refuses a data directory that is not missing or empty.
   */
  async bootstrap(): Promise<{ systemIdentifier: string }> {
    const state = await this.inspectDataDir();
    if (state.kind !== 'missing' && state.kind !== 'empty')
      throw new FatalError('cannot initialize: the data directory is not empty', { dataDir: this.pg.dataDir, found: state.kind });
    await this.prepareRunDir();
    this.props.logger.info('initializing a new cluster', { dataDir: this.pg.dataDir });
    try {
      await runInitdb({
        ...this.spawning(),
        binDir: this.pg.binDir,
        dataDir: this.pg.dataDir,
        runDir: this.props.runDir,
        superuser: this.credentials('superuser'),
        locale: this.props.locale ?? 'C.UTF-8',
      });
      await this.configure(undefined);
      await this.start();
      await withClient(this.connection(), 'creating the replication role', (c) => ensureReplicationRole(c, this.credentials('replication')));
      const { server } = await this.snapshot();
      if (!server) throw new TransientError('postgres stopped answering right after initialization', { dataDir: this.pg.dataDir });
      this.props.logger.info('cluster initialized', { systemIdentifier: server.systemIdentifier });
      return { systemIdentifier: server.systemIdentifier };
    } catch (err) {
      // Nobody has seen this cluster yet (its identifier is published only after a successful bootstrap), so a
      // half-made one is removed and the next attempt starts clean.
      this.props.logger.error('initialization failed; removing the half-made cluster', { dataDir: this.pg.dataDir, error: String(err) });
      await this.stop('immediate', 10_000);
      await emptyDataDir(this.pg.dataDir);
      throw err;
    }
  }

  /**
   * Clones `upstream` with pg_basebackup and configures the copy as a standby of it (not started). The data
   * directory must be missing or empty (see `removeData`). Refuses the copy if it belongs to another cluster.
   */
  async createReplica(upstream: Upstream, opts: GuardOptions = {}): Promise<void> {
    const state = await this.inspectDataDir();
    if (state.kind !== 'missing' && state.kind !== 'empty')
      throw new FatalError('cannot clone: the data directory is not empty; remove it first', { dataDir: this.pg.dataDir, found: state.kind });
    await this.prepareRunDir();
    this.props.logger.info('cloning from the leader', { upstream });
    await runBasebackup({ ...this.cloning(upstream, this.pg.replication), timeoutMs: CLONE_TIMEOUT_MS });
    await this.guard(opts);
    await this.configure(upstream);
  }

  /** Starts Postgres as a child process and waits until it accepts connections. */
  async start(opts: GuardOptions & { timeoutMs?: number } = {}): Promise<void> {
    if (this.postmaster.running) return;
    await this.guard(opts);
    const orphan = await livePostmasterPid(this.pg.dataDir);
    if (orphan !== undefined) {
      throw new FatalError("postgres is already running on the data directory, but not as this agent's child; stop it first", {
        dataDir: this.pg.dataDir,
        pid: orphan,
      });
    }
    await this.prepareRunDir();
    await this.writeBaseFiles();
    await this.postmaster.start(opts.timeoutMs ?? START_TIMEOUT_MS);
    this.props.logger.info('postgres started', { pid: this.postmaster.pid });
  }

  /** Stops Postgres with `mode`, escalating after `timeoutMs` (see Postmaster.stop). */
  async stop(mode: StopMode, timeoutMs: number): Promise<StopResult> {
    // The agent's own session goes first: a smart stop would wait for it, and nothing should use it meanwhile.
    this.session.close(`stopping postgres (${mode})`);
    const res = await this.postmaster.stop(mode, timeoutMs);
    if (res.wasRunning) this.props.logger.info('postgres stopped', { mode, stoppedWith: res.stoppedWith });
    return res;
  }

  /** The snapshot the HA loop decides on. Never throws for a Postgres that is down or starting. */
  async snapshot(): Promise<PostgresSnapshot> {
    const pid = this.postmaster.pid;
    if (pid === undefined) return Object.freeze({ running: false, accepting: false, dataDir: await this.inspectDataDir() });
    try {
      const server = await this.session.run('reading the server state', readServerFacts);
      return Object.freeze({ running: true, pid, accepting: true, server });
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- details are Record<string, unknown>; String() keeps whatever is there a string
      return Object.freeze({ running: true, pid, accepting: false, error: String((err.details as { error?: string }).error ?? err.message) });
    }
  }

  /** Promotes this standby and waits for the promotion to finish. A primary is left as it is. */
  async promote(timeoutMs = 60_000): Promise<void> {
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const outcome = await withClient(
      this.connection(),
      'promotion',
      async (c) => {
        if (!(await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r) return 'already primary';
        return (await c.query<{ ok: boolean }>('SELECT pg_promote(true, $1) AS ok', [seconds])).rows[0]!.ok ? 'promoted' : 'timed out';
      },
      timeoutMs + 5000,
    );
    if (outcome === 'timed out') throw new TransientError('promotion did not finish in time', { timeoutMs });
    await this.writeStandbyFiles(undefined, false);
    this.props.logger.info('promoted', { outcome });
  }

  /** An immediate checkpoint (before a switchover, so the stop and the new primary's start are quick). */
  async checkpoint(): Promise<void> {
    await withClient(this.connection(), 'checkpoint', (c) => c.query('CHECKPOINT'), 0);
  }

  /**
   * Makes this member a standby of `upstream` (undefined: a standby waiting for a leader). A running standby reloads
   * (primary_conninfo takes effect without a restart since Postgres 13); a running primary is stopped with `mode`
   * and started as a standby (a demotion); a stopped server is only configured.
   */
  async follow(upstream: Upstream | undefined, opts: GuardOptions & { mode?: StopMode; stopTimeoutMs?: number } = {}): Promise<{ restarted: boolean }> {
    await this.guard(opts);
    // Postgres deletes standby.signal when it promotes, so while it runs the file tells a standby from a primary,
    // even before the standby accepts connections.
    if (this.postmaster.running && !existsSync(join(this.pg.dataDir, 'standby.signal'))) {
      await this.demote(upstream, { mode: opts.mode ?? 'fast', stopTimeoutMs: opts.stopTimeoutMs });
      return { restarted: true };
    }
    await this.writeStandbyFiles(upstream, true);
    if (this.postmaster.running) this.postmaster.reload();
    this.props.logger.info('following', { upstream: upstream ?? null });
    return { restarted: false };
  }

  /**
   * Demotes a primary: stops it with `mode` (fast for a graceful switchover, immediate when the lock is lost), then
   * starts it as a standby of `upstream` (undefined: waiting for a leader). Whether its history must be rewound first
   * is the caller's call; a diverged standby stops streaming and reports it in its log.
   */
  async demote(upstream: Upstream | undefined, opts: GuardOptions & { mode: StopMode; stopTimeoutMs?: number }): Promise<void> {
    await this.guard(opts);
    await this.stop(opts.mode, opts.stopTimeoutMs ?? 30_000);
    await this.writeStandbyFiles(upstream, true);
    await this.start();
    this.props.logger.info('demoted', { upstream: upstream ?? null, mode: opts.mode });
  }

  /** Stops and starts again (for settings that wait for a restart). */
  async restart(mode: StopMode, stopTimeoutMs: number, opts: GuardOptions = {}): Promise<void> {
    await this.stop(mode, stopTimeoutMs);
    await this.start(opts);
  }

  /** Rewinds this stopped former primary against `upstream` and configures it to follow it (not started). */
  async rewind(upstream: Upstream, opts: GuardOptions = {}): Promise<{ rewound: boolean }> {
    if (this.postmaster.running) throw new FatalError('cannot rewind a running server; stop it first', { pid: this.postmaster.pid });
    await this.guard(opts);
    await this.prepareRunDir();
    // pg_rewind needs a target shut down cleanly; a primary that was killed or fenced first runs crash recovery.
    if (await ensureCleanShutdown({ ...this.spawning(), binDir: this.pg.binDir, dataDir: this.pg.dataDir, cwd: this.props.runDir })) {
      this.props.logger.info('crash recovery done before rewinding', { dataDir: this.pg.dataDir });
    }
    this.props.logger.info('rewinding against the leader', { upstream });
    const { rewound, output } = await runRewind({ ...this.cloning(upstream, this.pg.superuser), timeoutMs: REWIND_TIMEOUT_MS });
    this.props.logger.info('rewind finished', { rewound, output: output.split('\n').slice(-10) });
    // pg_rewind copied the source's configuration files too; put ours back.
    await this.configure(upstream);
    return { rewound };
  }

  /**
   * At start, before anything else: a postmaster running on the data directory that is not this agent's child (a
   * previous agent crashed) is stopped, never left running unmanaged.
   */
  async stopStray(timeoutMs: number): Promise<void> {
    const stopped = await stopStrayPostmaster(this.pg.dataDir, timeoutMs);
    if (stopped) this.props.logger.warn('stopped a postgres left running by a previous agent', { ...stopped, dataDir: this.pg.dataDir });
  }

  /** Empties the (stopped) data directory for a re-clone. */
  async removeData(opts: GuardOptions = {}): Promise<void> {
    if (this.postmaster.running) throw new FatalError('cannot remove the data of a running server; stop it first', { pid: this.postmaster.pid });
    await this.guard(opts);
    this.props.logger.warn('removing the data directory', { dataDir: this.pg.dataDir });
    await emptyDataDir(this.pg.dataDir);
  }

  listSlots(): Promise<ReplicationSlot[]> {
    return this.session.run('listing slots', listSlots);
  }

  /** Creates a physical slot (on the primary, for a member). False if it existed. */
  createSlot(name: string): Promise<boolean> {
    return this.session.run('creating a slot', (c) => createPhysicalSlot(c, name));
  }

  /** Advances a physical slot to `lsn` (a permanent slot on a replica, to the leader's position); where it is now. */
  advanceSlot(name: string, lsn: bigint): Promise<bigint | undefined> {
    return this.session.run('advancing a slot', (c) => advanceSlot(c, name, lsn));
  }

  /** Drops a slot. False if it did not exist; ConflictError while a standby streams from it. */
  dropSlot(name: string): Promise<boolean> {
    return this.session.run('dropping a slot', (c) => dropSlot(c, name));
  }

  async getSynchronousStandbyNames(): Promise<string> {
    return this.session.run(
      'reading synchronous_standby_names',
      async (c) => (await c.query<{ v: string }>("SELECT current_setting('synchronous_standby_names') AS v")).rows[0]!.v,
    );
  }

  /** Sets synchronous_standby_names ('' for none) in the owned file and reloads. */
  setSynchronousStandbyNames(value: string): Promise<SettingsChange> {
    return this.replace('sync', value === '' ? {} : { synchronous_standby_names: value });
  }

  /**
   * Replaces the parameters Postgres runs with (the static `postgresql.parameters` merged with the dynamic ones, as
   * the caller decides) and reloads; reports which changes wait for a restart.
   */
  async applyParameters(parameters: Readonly<Record<string, SettingValue>>): Promise<SettingsChange> {
    return this.replace('parameters', normalizeParameters(parameters));
  }

  private async replace(file: 'sync' | 'parameters', settings: Readonly<Record<string, SettingValue>>): Promise<SettingsChange> {
    const base = { dataDir: this.pg.dataDir, file, check: { ...this.spawning(), binDir: this.pg.binDir, cwd: this.props.runDir } };
    if (!this.postmaster.running) return replaceSettings({ ...base, client: undefined }, settings);
    return this.session.run(`changing ${file} settings`, (client) => replaceSettings({ ...base, client }, settings));
  }

  private async guard(opts: GuardOptions): Promise<void> {
    const state = await this.inspectDataDir();
    assertSameCluster(this.pg.dataDir, state, opts.expectedSystemIdentifier);
  }

  /** All owned files for a fresh or copied data directory: a primary (no upstream) or a standby of `upstream`. */
  private async configure(upstream: Upstream | undefined): Promise<void> {
    await this.writeBaseFiles();
    await writeSettingsFile(this.pg.dataDir, 'parameters', normalizeParameters(this.pg.parameters), this.props.runAs);
    await writeSettingsFile(this.pg.dataDir, 'sync', {}, this.props.runAs);
    await this.writeStandbyFiles(upstream, upstream !== undefined);
  }

  private async writeBaseFiles(): Promise<void> {
    await writeSettingsFile(this.pg.dataDir, 'base', baseSettings({ listen: this.pg.listen, socketDir: this.props.runDir }), this.props.runAs);
    await this.writeHba();
  }

  private async writeHba(): Promise<void> {
    const hba = renderHba({ superuser: this.pg.superuser.username, replicationUser: this.pg.replication.username, clientLines: this.clientHba });
    await writeOwnedFile(join(this.pg.dataDir, 'pg_hba.conf'), hba, 0o600, this.props.runAs);
  }

  /**
   * Sets the client lines of pg_hba.conf (undefined: the catch-all) as `postgresql.pg_hba` says. While Postgres runs,
   * the new file is first read by Postgres itself (`pg_hba_file_rules`); a file it refuses is put back as it was and
   * the refusal thrown, so a bad edit never reaches a reload or the next start. Returns whether anything changed.
   */
  async applyHba(lines: readonly string[] | undefined): Promise<boolean> {
    if (JSON.stringify(lines) === JSON.stringify(this.clientHba)) return false;
    const previous = this.clientHba;
    this.clientHba = lines;
    if (!existsSync(this.pg.dataDir) || !existsSync(join(this.pg.dataDir, 'PG_VERSION'))) return true;
    await this.writeHba();
    if (!this.postmaster.running) return true;
    const refused = await this.session.run('checking pg_hba.conf', async (client) => {
      const rows = (
        await client.query<{ line_number: number | null; error: string }>(
          'SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL ORDER BY line_number',
        )
      ).rows;
      if (rows.length === 0) await client.query('SELECT pg_reload_conf()');
      return rows;
    });
    if (refused.length) {
      this.clientHba = previous;
      await this.writeHba();
      const fileLines = renderHba({ superuser: this.pg.superuser.username, replicationUser: this.pg.replication.username, clientLines: lines }).split('\n');
      const first = refused[0]!;
      throw new ConfigError('postgresql.pg_hba', first.line_number ? fileLines[first.line_number - 1] : undefined, `was refused by PostgreSQL: ${first.error}`);
    }
    return true;
  }

  private async writeStandbyFiles(upstream: Upstream | undefined, standby: boolean): Promise<void> {
    const settings: Record<string, SettingValue> = upstream
      ? {
          primary_conninfo: primaryConninfo({
            upstream,
            user: this.pg.replication.username,
            applicationName: this.props.memberName,
            passfile: this.passfile(),
            tls: this.pg.replication.tls,
          }),
          primary_slot_name: this.slotName,
          recovery_target_timeline: 'latest',
        }
      : {};
    await writeSettingsFile(this.pg.dataDir, 'standby', settings, this.props.runAs);
    await setStandbySignal(this.pg.dataDir, standby, this.props.runAs);
  }

  /**
   * Reads the password files again (a rotated Secret). A changed password is written to the password file at once,
   * so the next clone, rewind or WAL receiver connection uses it; the database itself learns it from
   * `alignRolePasswords` on the primary. A password file that could not be written is tried again on the next call
   * and reported in `passfileError`.
   */
  async rereadPasswords(): Promise<PasswordReread & { passfileError?: string }> {
    const found = this.passwords.reread();
    if (found.changed.length) this.passfileStale = true;
    if (!this.passfileStale || !existsSync(this.props.runDir)) return found;
    try {
      await this.writePassfile();
      return found;
    } catch (err) {
      return { ...found, passfileError: String(err) };
    }
  }

  /**
   * On the primary: brings the database's stored passwords in line with the ones in force. A role whose stored
   * verifier does not accept its password gets a new SCRAM verifier (the clear text never reaches SQL or a log).
   * Returns the roles whose password was set.
   */
  async alignRolePasswords(): Promise<AgentRole[]> {
    const names = AGENT_ROLES.map((r) => this.passwords.username(r));
    const rows = await this.session.run(
      'reading the stored passwords',
      async (c) =>
        (await c.query<{ rolname: string; rolpassword: string | null }>('SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1)', [names])).rows,
    );
    const set: AgentRole[] = [];
    for (const role of AGENT_ROLES) {
      const name = this.passwords.username(role);
      const stored = rows.find((r) => r.rolname === name)?.rolpassword ?? null;
      if (verifierAccepts(stored, this.passwords.password(role), name)) {
        this.passwords.settled(role);
        continue;
      }
      const password = this.passwords.password(role);
      await withClient(this.connection(), `setting the ${role} password`, async (c) => {
        // Session settings: a verifier is not the password, but it is still not for the server log.
        await c.query("SET log_statement = 'none'");
        await c.query("SET log_min_error_statement = 'panic'");
        await c.query(`ALTER ROLE ${c.escapeIdentifier(name)} PASSWORD ${c.escapeLiteral(scramSha256Verifier(password) ?? password)}`);
      });
      this.passwords.settled(role);
      set.push(role);
    }
    return set;
  }

  /** The run directory and the password file. */
  private async prepareRunDir(): Promise<void> {
    await mkdir(this.props.runDir, { recursive: true, mode: 0o700 });
    await handOver(this.props.runDir, this.props.runAs);
    await this.writePassfile();
  }

  /** The password file: superuser and replication lines (libpq picks by user name). */
  private async writePassfile(): Promise<void> {
    const lines = [
      passfileLine(this.pg.replication.username, this.passwords.password('replication')),
      passfileLine(this.pg.superuser.username, this.passwords.password('superuser')),
    ];
    await writeOwnedFile(this.passfile(), `${lines.join('\n')}\n`, 0o600, this.props.runAs);
    this.passfileStale = false;
  }

  private credentials(role: AgentRole): { username: string; password: string } {
    return { username: this.passwords.username(role), password: this.passwords.password(role) };
  }

  private passfile(): string {
    return join(this.props.runDir, 'pgpass');
  }

  private cloning(upstream: Upstream, role: PgRole) {
    const { binDir, dataDir } = this.pg;
    return { ...this.spawning(), binDir, dataDir, runDir: this.props.runDir, upstream, user: role.username, tls: role.tls, passfile: this.passfile() };
  }

  private spawning() {
    return { runAs: this.props.runAs, killWithAgent: this.props.killWithAgent ?? false };
  }

  private connection(): LocalConnection {
    return {
      socketDir: this.props.runDir,
      port: parseListen(this.pg.listen).port,
      superuser: this.pg.superuser.username,
      passwords: () => this.passwords.candidates('superuser'),
    };
  }
}
