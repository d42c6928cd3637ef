import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from 'pg';
import type { Credentials } from '../config/agent-config';
import { FatalError } from '../errors';
import { writeOwnedFile } from './owned-files';
import type { SpawnWrapping } from './run-as';
import { runTool, toolFailureDetails } from './run-tool';
import { scramSha256Verifier } from './scram';

export interface InitdbProps extends SpawnWrapping {
  readonly binDir: string;
  readonly dataDir: string;
  /** Directory for the short-lived password file. */
  readonly runDir: string;
  readonly superuser: Credentials;
  readonly locale: string;
}

/** initdb can take a while on a slow volume (it fsyncs everything); a minute and a half is generous. */
const INITDB_TIMEOUT_MS = 90_000;

/**
 * Creates a new cluster: data checksums, UTF-8, the superuser with its password. The password reaches initdb in a
 * 0600 file that is deleted right after; only the file's path is on the command line.
 */
export async function runInitdb(p: InitdbProps): Promise<void> {
  const pwfile = join(p.runDir, `.pgha-pwfile-${randomBytes(6).toString('hex')}`);
  await writeOwnedFile(pwfile, `${p.superuser.password}\n`, 0o600, p.runAs);
  try {
    const res = await runTool({
      ...p,
      binary: join(p.binDir, 'initdb'),
      args: [
        '-D',
        p.dataDir,
        '--data-checksums',
        '--encoding=UTF8',
        `--locale=${p.locale}`,
        `--username=${p.superuser.username}`,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
      ],
      cwd: p.runDir,
      timeoutMs: INITDB_TIMEOUT_MS,
    });
    if (res.code !== 0) throw new FatalError('initdb failed', { dataDir: p.dataDir, ...toolFailureDetails('initdb', res) });
  } finally {
    await rm(pwfile, { force: true });
  }
}

/**
 * Creates (or updates) the replication role. The password goes in as a SCRAM verifier when possible, so its clear
 * text is never part of a statement; statement logging is switched off for this session either way.
 */
export async function ensureReplicationRole(client: Client, replication: Credentials): Promise<void> {
  await client.query("SET log_statement = 'none'");
  await client.query("SET log_min_error_statement = 'panic'");
  const secret = client.escapeLiteral(scramSha256Verifier(replication.password) ?? replication.password);
  const role = client.escapeIdentifier(replication.username);
  const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [replication.username]);
  const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
  await client.query(`${verb} ROLE ${role} WITH LOGIN REPLICATION PASSWORD ${secret}`);
}
