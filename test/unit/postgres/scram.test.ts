import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { scramSha256Verifier } from '../../../agent/src/postgres/scram';

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
