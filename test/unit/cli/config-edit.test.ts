import { buildPatch, describeChanges, dottedPatch, mergePatch, parseValue } from '../../../agent/src/cli/config-edit';
import { UsageError } from '../../../agent/src/cli/usage-error';

describe('config edits', () => {
  const config = { ttl: 30, loop_wait: 10, postgresql: { parameters: { max_connections: 100, work_mem: '4MB' }, use_pg_rewind: true } };

  it('reads --set values as YAML', () => {
    expect([parseValue('10'), parseValue('true'), parseValue('null'), parseValue('4MB'), parseValue('{a: 1}')]).toEqual([10, true, null, '4MB', { a: 1 }]);
  });

  it('builds nested patches from dotted keys', () => {
    expect(dottedPatch('postgresql.parameters.work_mem', '8MB')).toEqual({ postgresql: { parameters: { work_mem: '8MB' } } });
    expect(() => dottedPatch('a..b', 1)).toThrow(UsageError);
  });

  it('merges --set, -p and --apply in order, later winning, nulls kept for deletion', () => {
    const patch = buildPatch(
      [
        ['ttl', '20'],
        ['postgresql.parameters.work_mem', 'null'],
      ],
      [['max_connections', '200']],
      'ttl: 25\nsynchronous_mode: true\n',
    );
    expect(patch).toEqual({ ttl: 25, synchronous_mode: true, postgresql: { parameters: { work_mem: null, max_connections: 200 } } });
    expect(mergePatch(config, patch)).toEqual({
      ttl: 25,
      loop_wait: 10,
      synchronous_mode: true,
      postgresql: { parameters: { max_connections: 200 }, use_pg_rewind: true },
    });
  });

  it('fails on an --apply document that is not a mapping', () => {
    expect(() => buildPatch([], [], '- a\n- b\n')).toThrow(/must be a mapping/);
    expect(() => buildPatch([], [], 'a: [\n')).toThrow(/not valid YAML/);
  });

  it('does not change the configuration it merges into', () => {
    const before = JSON.stringify(config);
    mergePatch(config, { postgresql: { parameters: { work_mem: null } } });
    expect(JSON.stringify(config)).toBe(before);
  });

  it('lists what changed by dotted key', () => {
    const after = mergePatch(config, { ttl: 20, pause: true, postgresql: { parameters: { work_mem: null } } });
    expect(describeChanges(config, after)).toEqual(['pause: (unset) -> true', 'postgresql.parameters.work_mem: "4MB" -> (unset)', 'ttl: 30 -> 20']);
    expect(describeChanges(config, config)).toEqual([]);
  });
});
