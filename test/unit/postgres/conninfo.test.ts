import { buildConninfo, escapePassfileField, passfileLine, primaryConninfo, quoteConninfoValue } from '../../../agent/src/postgres/conninfo';

describe('conninfo', () => {
  test.each([
    ['plain', 'plain'],
    ['192.0.2.1', '192.0.2.1'],
    ['', "''"],
    ['two words', "'two words'"],
    ["it's", "'it\\'s'"],
    ['back\\slash', "'back\\\\slash'"],
    ['a=b', "'a=b'"],
  ])('quotes %j as %s', (value, quoted) => {
    expect(quoteConninfoValue(value)).toBe(quoted);
  });

  test('builds key=value pairs in order, leaving out undefined', () => {
    expect(buildConninfo({ host: 'h', port: 5432, user: undefined, application_name: 'pod 0' })).toBe("host=h port=5432 application_name='pod 0'");
  });

  test('fails on a password or a bad keyword', () => {
    expect(() => buildConninfo({ password: 'x' })).toThrow(/password file/);
    expect(() => buildConninfo({ 'host ': 'x' })).toThrow(RangeError);
  });

  test('primary_conninfo names the member and reads the password from the passfile', () => {
    const c = primaryConninfo({ upstream: { host: '192.0.2.7', port: 5433 }, user: 'replicator', applicationName: 'pgha-1', passfile: '/run/pgha/pgpass' });
    expect(c).toContain('host=192.0.2.7 port=5433 user=replicator passfile=/run/pgha/pgpass application_name=pgha-1');
    expect(c).not.toContain('password');
  });
});

describe('password file', () => {
  test('escapes colon and backslash', () => {
    expect(escapePassfileField('a:b\\c')).toBe('a\\:b\\\\c');
    expect(passfileLine('repl', "p:w'\\ x")).toBe("*:*:*:repl:p\\:w'\\\\ x");
  });

  test('fails on a line break', () => {
    expect(() => passfileLine('u', 'a\nb')).toThrow(RangeError);
  });
});
