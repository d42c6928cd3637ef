import { parseDynamicConfig, validateDynamicConfig } from '../../../agent/src/ha/dynamic-config';

describe('slots and ignore_slots in the dynamic configuration', () => {
  it("reads Patroni's shapes of permanent physical slots, and ignore_slots matchers", () => {
    const r = parseDynamicConfig(
      JSON.stringify({
        slots: { keep: { type: 'physical' }, zero: 0, empty: null, plain: {} },
        ignore_slots: [{ name: 'ext' }, { type: 'logical', database: 'app', plugin: 'pgoutput' }],
      }),
    );
    expect(r).toMatchObject({
      ok: true,
      config: {
        slots: {
          permanent: ['empty', 'keep', 'plain', 'zero'],
          ignore: [{ name: 'ext' }, { type: 'logical', database: 'app', plugin: 'pgoutput' }],
        },
      },
    });
  });

  it('has none when neither is set', () => {
    expect(parseDynamicConfig('{"ttl":30}')).toMatchObject({ ok: true, config: { slots: { permanent: [], ignore: [] } } });
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['slots not an object', { slots: ['a'] }, ['slots: ["a"] must be an object of slot names']],
    [
      'a bad slot name',
      { slots: { 'Bad-Name': { type: 'physical' } } },
      ['slots.Bad-Name: "Bad-Name" is not a valid slot name; use lower-case letters, digits and _, at most 63 characters'],
    ],
    ['an unknown type', { slots: { s: { type: 'virtual' } } }, ['slots.s.type: "virtual" must be physical or logical']],
    ['a value that is no object', { slots: { s: 'physical' } }, ['slots.s: "physical" must be {type: physical} or {type: logical, database, plugin}']],
    [
      'a logical slot without database and plugin',
      { slots: { cdc: { type: 'logical' } } },
      [
        'slots.cdc.database: undefined must be a non-empty string for a logical slot',
        'slots.cdc.plugin: undefined must be a non-empty string for a logical slot',
      ],
    ],
    [
      'a complete logical slot (not supported)',
      { slots: { cdc: { type: 'logical', database: 'app', plugin: 'pgoutput' } } },
      ['slots.cdc: {"type":"logical","database":"app","plugin":"pgoutput"} is a logical slot; pgha keeps only physical permanent slots (type: physical)'],
    ],
    [
      'a logical slot by its fields alone',
      { slots: { cdc: { database: 'app', plugin: 'pgoutput' } } },
      ['slots.cdc: {"database":"app","plugin":"pgoutput"} is a logical slot; pgha keeps only physical permanent slots (type: physical)'],
    ],
    ['ignore_slots not a list', { ignore_slots: { name: 'x' } }, ['ignore_slots: {"name":"x"} must be a list of {name, type, database, plugin} matchers']],
    ['an ignore_slots entry that is no object', { ignore_slots: ['x'] }, ['ignore_slots[0]: "x" must be an object with any of name, type, database, plugin']],
    ['an unknown matcher key', { ignore_slots: [{ nam: 'x' }] }, ['ignore_slots[0].nam: unknown key; allowed: name, type, database, plugin']],
    ['a matcher value that is no string', { ignore_slots: [{ name: 7 }] }, ['ignore_slots[0].name: 7 must be a non-empty string']],
    ['a matcher type outside physical and logical', { ignore_slots: [{ type: 'temp' }] }, ['ignore_slots[0].type: "temp" must be physical or logical']],
  ])('fails on %s', (_what, config, problems) => {
    expect(validateDynamicConfig(config)).toEqual(problems);
    // What <scope>-config holds is refused whole too: the last good configuration stays in force.
    expect(parseDynamicConfig(JSON.stringify(config))).toEqual({ ok: false, error: problems.join('; ') });
  });
});
