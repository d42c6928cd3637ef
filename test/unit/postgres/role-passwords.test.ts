import { RolePasswords } from '../../../agent/src/postgres/role-passwords';

/** A file system of password files the test edits; a missing path reads as ENOENT. */
function files(initial: Record<string, string>) {
  const fs = { ...initial };
  const read = (path: string) => {
    const text = fs[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };
  return { fs, read };
}

const roles = {
  superuser: { username: 'postgres', password: 'su-1', passwordFile: '/etc/pgha/su', tls: {} },
  replication: { username: 'replicator', password: 'repl-1', tls: {} },
};

describe('RolePasswords', () => {
  test('starts with the configured passwords and follows a changed password file', () => {
    const f = files({ '/etc/pgha/su': 'su-1\n' });
    const p = new RolePasswords(roles, f.read);
    expect(p.reread()).toEqual({ changed: [], unusable: [] });
    f.fs['/etc/pgha/su'] = 'su-2\n';
    expect(p.reread()).toEqual({ changed: ['superuser'], unusable: [] });
    expect(p.password('superuser')).toBe('su-2');
    // The role configured inline is never re-read.
    expect(p.password('replication')).toBe('repl-1');
    expect(p.reread().changed).toEqual([]);
  });

  test('keeps the password before a change for connecting until the database is known to accept the new one', () => {
    const f = files({ '/etc/pgha/su': 'su-1' });
    const p = new RolePasswords(roles, f.read);
    expect(p.candidates('superuser')).toEqual(['su-1']);
    f.fs['/etc/pgha/su'] = 'su-2';
    p.reread();
    expect(p.candidates('superuser')).toEqual(['su-2', 'su-1']);
    p.settled('superuser');
    expect(p.candidates('superuser')).toEqual(['su-2']);
  });

  test('an empty or unreadable file changes nothing and is reported', () => {
    const f = files({ '/etc/pgha/su': '\n' });
    const p = new RolePasswords(roles, f.read);
    expect(p.reread()).toEqual({ changed: [], unusable: [{ role: 'superuser', file: '/etc/pgha/su', why: 'empty' }] });
    delete f.fs['/etc/pgha/su'];
    expect(p.reread()).toEqual({ changed: [], unusable: [{ role: 'superuser', file: '/etc/pgha/su', why: 'unreadable (ENOENT)' }] });
    expect(p.password('superuser')).toBe('su-1');
  });
});
