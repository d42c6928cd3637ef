import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** Postgres' default iteration count for stored SCRAM verifiers (`scram_iterations` in 16+, fixed before). */
const ITERATIONS = 4096;

/**
 * A SCRAM-SHA-256 verifier in the form Postgres stores (`SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`,
 * RFC 5802/7677). Giving Postgres the verifier instead of the password keeps the clear text out of SQL text, and so
 * out of any statement log. Returns undefined for non-ASCII passwords: Postgres normalizes those with SASLprep,
 * which this function does not implement, so the caller must hand such a password to Postgres to hash itself.
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16)): string | undefined {
  if (!/^[\x20-\x7e]*$/.test(password)) return undefined;
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * Whether `stored` (a `pg_authid.rolpassword`) accepts `password`: a SCRAM-SHA-256 verifier is recomputed with its own
 * salt and iteration count, an MD5 one (`md5` + md5(password + role name)) likewise. Null (no password) and anything
 * else accept nothing. Non-ASCII passwords are never judged a match: Postgres normalizes them (SASLprep) before
 * hashing, which this module does not do, so such a password is always set again (setting it is harmless).
 */
export function verifierAccepts(stored: string | null, password: string, roleName: string): boolean {
  if (stored === null || !/^[\x20-\x7e]*$/.test(password)) return false;
  if (/^md5[0-9a-f]{32}$/.test(stored))
    return (
      stored ===
      `md5${createHash('md5')
        .update(password + roleName)
        .digest('hex')}`
    );
  const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return false;
  const [, iterations, salt, storedKey, serverKey] = m as unknown as [string, string, string, string, string];
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(salt, 'base64'), Number(iterations), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return (
    createHash('sha256').update(clientKey).digest('base64') === storedKey && createHmac('sha256', salted).update('Server Key').digest('base64') === serverKey
  );
}
