import { ConfigError } from '../errors';

/**
 * The `pg_hba.conf` the agent writes. Its own rules ask for scram-sha-256; nothing is trusted, not even the local
 * socket, because in a Pod the agent and any other container may share the socket directory.
 */

/** Quotes a role name for pg_hba.conf when it is not a plain lower-case word (keywords like `all` included). */
export function quoteHbaRole(role: string): string {
  if (/["\r\n]/.test(role)) throw new RangeError(`a role name in pg_hba.conf cannot contain '"' or a line break: ${JSON.stringify(role)}`);
  return /^[a-z_][a-z0-9_]*$/.test(role) && !['all', 'sameuser', 'samerole', 'samegroup', 'replication'].includes(role) ? role : `"${role}"`;
}

export interface HbaProps {
  readonly superuser: string;
  readonly replicationUser: string;
  /** Lines for clients (`postgresql.pg_hba`); they replace the catch-all `host all all all scram-sha-256`. */
  readonly clientLines?: readonly string[];
}

/**
 * Checks `postgresql.pg_hba` (local or dynamic): a list of single lines. PostgreSQL checks the rules themselves when
 * the file is loaded (`LocalPostgres.applyHba`).
 */
export function hbaLines(key: string, value: unknown): readonly string[] {
  if (!Array.isArray(value)) throw new ConfigError(key, value, 'must be a list of pg_hba.conf lines');
  // An empty list would let no client in; leaving the key out keeps the agent's catch-all.
  if (value.length === 0) throw new ConfigError(key, value, 'must list at least one pg_hba.conf line (leave it out for the default)');
  for (const [i, line] of value.entries()) {
    if (typeof line !== 'string' || line.trim() === '' || /[\r\n]/.test(line))
      throw new ConfigError(`${key}[${i}]`, line, 'must be one non-empty pg_hba.conf line');
  }
  return value as string[];
}

/**
 * Local socket: the superuser (the agent itself) and replication. Network: replication for the replication role
 * (replicas stream and clone), the superuser (pg_rewind reads from the new primary), and every role for clients.
 */
export function renderHba(p: HbaProps): string {
  const su = quoteHbaRole(p.superuser);
  const repl = quoteHbaRole(p.replicationUser);
  const rows: string[][] = [
    ['local', 'all', su, '', 'scram-sha-256'],
    ['local', 'replication', repl, '', 'scram-sha-256'],
    ['host', 'replication', repl, 'all', 'scram-sha-256'],
    ['host', 'all', su, 'all', 'scram-sha-256'],
  ];
  const lines = ['# Written by pgha; edits are overwritten.', '# TYPE  DATABASE     USER  ADDRESS  METHOD'];
  for (const r of rows) lines.push(r.filter((c) => c !== '').join('  '));
  if (p.clientLines) lines.push('# postgresql.pg_hba', ...p.clientLines);
  else lines.push(['host', 'all', 'all', 'all', 'scram-sha-256'].join('  '));
  return `${lines.join('\n')}\n`;
}
