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
