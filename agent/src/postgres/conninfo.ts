/**
 * libpq connection strings and password files. Passwords never go into a connection string: libpq reads them from
 * a password file (`passfile=`), so they appear neither on a command line nor in `pg_stat_wal_receiver`.
 */

/** Where a member's Postgres can be reached. */
export interface Upstream {
  readonly host: string;
  readonly port: number;
}

/**
 * Quotes one conninfo value: bare when it is a plain word, otherwise single-quoted with `\` and `'` escaped by a
 * backslash (libpq's rule). The empty string becomes `''`.
 */
export function quoteConninfoValue(value: string): string {
  if (value !== '' && /^[^\s'\\=]+$/.test(value)) return value;
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

const KEYWORD = /^[a-z_]+$/;

/** Builds `key=value key=value`, leaving out undefined entries, in the order given. */
export function buildConninfo(entries: Readonly<Record<string, string | number | undefined>>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(entries)) {
    if (value === undefined) continue;
    if (!KEYWORD.test(key)) throw new RangeError(`not a libpq connection keyword: ${JSON.stringify(key)}`);
    if (key === 'password') throw new RangeError('passwords must not be put into a connection string; use a password file');
    parts.push(`${key}=${quoteConninfoValue(String(value))}`);
  }
  return parts.join(' ');
}

/** libpq TLS options of a connection to another member (`sslmode`, `sslrootcert`, …); `sslmode=prefer` unless set. */
export type TlsOptions = Readonly<Record<string, string | undefined>>;

/** The `primary_conninfo` of a standby: stream as the replication role, named after the member. */
export function primaryConninfo(o: { upstream: Upstream; user: string; applicationName: string; passfile: string; tls?: TlsOptions }): string {
  return buildConninfo({
    host: o.upstream.host,
    port: o.upstream.port,
    user: o.user,
    passfile: o.passfile,
    application_name: o.applicationName,
    // Postgres' TCP keepalives let a standby notice a vanished primary in seconds rather than minutes.
    keepalives: 1,
    keepalives_idle: 5,
    keepalives_interval: 2,
    keepalives_count: 3,
    sslmode: 'prefer',
    ...o.tls,
  });
}

/** Escapes one field of a libpq password file (`\` and `:` take a backslash). */
export function escapePassfileField(value: string): string {
  return value.replace(/[\\:]/g, (c) => `\\${c}`);
}

/** One password-file line matching any host, port and database for `user`. */
export function passfileLine(user: string, password: string): string {
  if (/[\r\n]/.test(user) || /[\r\n]/.test(password)) throw new RangeError('user names and passwords in a password file cannot contain line breaks');
  return `*:*:*:${escapePassfileField(user)}:${escapePassfileField(password)}`;
}
