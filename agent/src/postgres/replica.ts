import { join } from 'node:path';
import { FatalError, TransientError } from '../errors';
import { buildConninfo, type TlsOptions, type Upstream } from './conninfo';
import type { SpawnWrapping } from './run-as';
import { runTool, toolFailureDetails } from './run-tool';

export interface CloneProps extends SpawnWrapping {
  readonly binDir: string;
  readonly dataDir: string;
  readonly runDir: string;
  readonly upstream: Upstream;
  /** The role to connect as; its password is in `passfile`. */
  readonly user: string;
  readonly passfile: string;
  /** libpq TLS options of the connection to the upstream (the role's). */
  readonly tls?: TlsOptions;
  readonly timeoutMs: number;
}

/**
 * Copies the upstream's data directory with pg_basebackup, streaming the WAL it needs alongside (`-X stream`) and
 * asking for an immediate checkpoint so the copy starts at once. A failure is transient (the upstream may be down or
 * restarting); pg_basebackup removes what it had written.
 */
export async function runBasebackup(p: CloneProps): Promise<void> {
  const res = await runTool({
    ...p,
    binary: join(p.binDir, 'pg_basebackup'),
    args: [
      '-D',
      p.dataDir,
      '-X',
      'stream',
      '--checkpoint=fast',
      '--no-password',
      '-d',
      buildConninfo({ host: p.upstream.host, port: p.upstream.port, user: p.user, application_name: 'pgha_basebackup', ...p.tls }),
    ],
    cwd: p.runDir,
    env: { PGPASSFILE: p.passfile },
  });
  if (res.code !== 0) throw new TransientError('pg_basebackup failed', { upstream: p.upstream, ...toolFailureDetails('pg_basebackup', res) });
}

/**
 * Rewinds a stopped data directory whose timeline diverged from the upstream's (a former primary). Connects as the
 * superuser (pg_rewind reads files through SQL functions). The target must have been shut down cleanly (the caller
 * runs crash recovery first). Returns false when it found nothing to rewind. After a failure the data directory
 * may not start; it is removed and cloned again only when remove_data_directory_on_rewind_failure says so, otherwise
 * `reinit` does it on request.
 */
export async function runRewind(p: CloneProps): Promise<{ rewound: boolean; output: string }> {
  const res = await runTool({
    ...p,
    binary: join(p.binDir, 'pg_rewind'),
    args: [
      '--target-pgdata',
      p.dataDir,
      '--source-server',
      buildConninfo({ host: p.upstream.host, port: p.upstream.port, user: p.user, dbname: 'postgres', passfile: p.passfile, ...p.tls }),
    ],
    cwd: p.runDir,
    env: { PGPASSFILE: p.passfile },
  });
  if (res.code !== 0) throw new FatalError('pg_rewind failed', { upstream: p.upstream, ...toolFailureDetails('pg_rewind', res) });
  const output = (res.stdout + res.stderr).trim();
  return { rewound: !/no rewind required/.test(output), output };
}
