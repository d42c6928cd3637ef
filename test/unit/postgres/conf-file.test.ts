import fc from 'fast-check';
import { parseConfFile, quoteConfValue, renderConfFile } from '../../../agent/src/postgres/conf-file';
import { hbaLines, renderHba, quoteHbaRole } from '../../../agent/src/postgres/hba';

describe('configuration file syntax', () => {
  test.each([
    ['128MB', "'128MB'"],
    [10, "'10'"],
    [true, "'on'"],
    [false, "'off'"],
    ["it's", "'it''s'"],
    ['C:\\dir', "'C:\\\\dir'"],
  ])('quotes %j as %s', (v, q) => {
    expect(quoteConfValue(v)).toBe(q);
  });

  test('fails on a line break, so a value cannot add a setting', () => {
    expect(() => quoteConfValue("x'\nport = '1")).toThrow(RangeError);
  });

  test('renders sorted settings and fails on a bad name', () => {
    expect(renderConfFile('t', { b: 1, a: 'x' })).toBe("# t\n# Written by pgha; edits are overwritten.\na = 'x'\nb = '1'\n");
    expect(() => renderConfFile('t', { 'bad name': 1 })).toThrow(RangeError);
  });

  test('reads back what it writes, for any printable value', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/),
          fc.string({ unit: 'grapheme' }).filter((s) => !/[\r\n\0]/.test(s)),
        ),
        (settings) => {
          expect(parseConfFile(renderConfFile('t', settings))).toEqual(settings);
        },
      ),
    );
  });
});

describe('pg_hba.conf', () => {
  test('asks for scram everywhere and limits the superuser and replication rows to their roles', () => {
    const text = renderHba({ superuser: 'postgres', replicationUser: 'Repl User' });
    const rows = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(rows).toEqual([
      'local  all  postgres  scram-sha-256',
      'local  replication  "Repl User"  scram-sha-256',
      'host  replication  "Repl User"  all  scram-sha-256',
      'host  all  postgres  all  scram-sha-256',
      'host  all  all  all  scram-sha-256',
    ]);
  });

  test("postgresql.pg_hba replaces the catch-all for clients; the agent's own rows stay first", () => {
    const text = renderHba({
      superuser: 'postgres',
      replicationUser: 'replicator',
      clientLines: ['hostssl all app 198.51.100.0/24 scram-sha-256', 'host all all all reject'],
    });
    const rows = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(rows.slice(0, 4)).toEqual(
      renderHba({ superuser: 'postgres', replicationUser: 'replicator' })
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .slice(0, 4),
    );
    expect(rows.slice(4)).toEqual(['hostssl all app 198.51.100.0/24 scram-sha-256', 'host all all all reject']);
  });

  test.each([
    ['not a list', 'host all all all md5', 'postgresql.pg_hba="host all all all md5"; must be a list of pg_hba.conf lines'],
    ['an empty line', ['  '], 'postgresql.pg_hba[0]="  "; must be one non-empty pg_hba.conf line'],
    [
      'two lines in one',
      ['host all all all md5', 'local all all trust\nhost all all all trust'],
      'postgresql.pg_hba[1]="local all all trust\\nhost all all all trust"; must be one non-empty pg_hba.conf line',
    ],
    ['not a string', [7], 'postgresql.pg_hba[0]=7; must be one non-empty pg_hba.conf line'],
  ])('refuses pg_hba that is %s, naming the entry', (_what, value, message) => {
    expect(() => hbaLines('postgresql.pg_hba', value)).toThrow(message);
  });

  test('quotes role names that are keywords or not plain', () => {
    expect(quoteHbaRole('replicator')).toBe('replicator');
    expect(quoteHbaRole('all')).toBe('"all"');
    expect(quoteHbaRole('Admin')).toBe('"Admin"');
    expect(() => quoteHbaRole('a"b')).toThrow(RangeError);
  });
});
