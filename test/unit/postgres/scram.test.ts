import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { scramSha256Verifier, verifierAccepts } from '../../../agent/src/postgres/scram';

describe('scramSha256Verifier', () => {
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');

  test('has the form Postgres stores, and its keys verify the password', () => {
    const v = scramSha256Verifier('pencil', salt)!;
    const m = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(v);
    expect(m).not.toBeNull();
    expect(m![1]).toBe('W22ZaJ0SNY7soEsUEjb6gQ==');
    // Recompute independently (RFC 5802): StoredKey = H(HMAC(SaltedPassword, "Client Key")).
    const salted = pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
    const stored = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest('base64');
    expect(m![2]).toBe(stored);
    expect(scramSha256Verifier('pencil!', salt)).not.toBe(v);
  });

  test('uses a fresh salt each time', () => {
    expect(scramSha256Verifier('same')).not.toBe(scramSha256Verifier('same'));
  });

  test('leaves non-ASCII passwords to Postgres (SASLprep)', () => {
    expect(scramSha256Verifier('pässword')).toBeUndefined();
  });
});

describe('verifierAccepts', () => {
  // Stored by PostgreSQL 15 itself: ALTER ROLE postgres PASSWORD 'rotated su 2', and with password_encryption md5
  // CREATE ROLE m LOGIN PASSWORD 'pencil'.
  const byPostgres = 'SCRAM-SHA-256$4096:cvzqzAWQPUfQb09y3ZG9Ag==$oHeEZjHM3u7tkqcuRqKajOn+Sth1fxg/HIkp0Fp/6/c=:g3FWP6vs9JrHDqZ4rnSPDv0VSf8AzN8UlVlD80lDbF4=';
  const md5ByPostgres = 'md58bbf3f45673bf67d02e4214911f3417f';

  test('accepts the password of a verifier Postgres made, and of one the agent made', () => {
    expect(verifierAccepts(byPostgres, 'rotated su 2', 'postgres')).toBe(true);
    expect(verifierAccepts(scramSha256Verifier('another one')!, 'another one', 'postgres')).toBe(true);
  });

  test('refuses any other password', () => {
    expect(verifierAccepts(byPostgres, 'rotated su 3', 'postgres')).toBe(false);
    expect(verifierAccepts(byPostgres, '', 'postgres')).toBe(false);
  });

  test('checks MD5 verifiers against the role name too', () => {
    expect(verifierAccepts(md5ByPostgres, 'pencil', 'm')).toBe(true);
    expect(verifierAccepts(md5ByPostgres, 'pencil', 'n')).toBe(false);
    expect(verifierAccepts(md5ByPostgres, 'pencil!', 'm')).toBe(false);
  });

  test('accepts nothing for no password, a clear-text one, or a non-ASCII password (set again to be sure)', () => {
    expect(verifierAccepts(null, 'x', 'postgres')).toBe(false);
    expect(verifierAccepts('x', 'x', 'postgres')).toBe(false);
    expect(verifierAccepts('SCRAM-SHA-256$4096:bad', 'x', 'postgres')).toBe(false);
    expect(verifierAccepts(scramSha256Verifier('pässword') ?? null, 'pässword', 'postgres')).toBe(false);
  });
});
