// DYNAMIC_FIELDS is what validateDynamicConfig checks and what docs/configuration.md lists: these cases hold the
// validator to every bound and default the table states, so the page cannot promise what the agent does not do.
import { FIELDS } from '../../../agent/src/config/schema';
import { EMPTY_DYNAMIC_CONFIG, parseDynamicConfig, validateDynamicConfig } from '../../../agent/src/ha/dynamic-config';
import { DYNAMIC_FIELDS, DYNAMIC_INT_MAX } from '../../../agent/src/ha/dynamic-fields';

/** `{ a: { b: v } }` for `a.b`. */
const nested = (key: string, v: unknown): Record<string, unknown> =>
  key
    .split('.')
    .reverse()
    .reduce<unknown>((inner, part) => ({ [part]: inner }), v) as Record<string, unknown>;

const integers = DYNAMIC_FIELDS.filter((f) => f.type === 'integer');
const booleans = DYNAMIC_FIELDS.filter((f) => f.type === 'boolean' || f.type === 'synchronous-mode');

describe('DYNAMIC_FIELDS', () => {
  it.each(integers.map((f) => [f.key, f.min ?? 0, f.max ?? DYNAMIC_INT_MAX] as const))('%s takes %d to %d and nothing past either end', (key, min, max) => {
    expect(validateDynamicConfig({ [key]: min })).toEqual([]);
    expect(validateDynamicConfig({ [key]: max })).toEqual([]);
    for (const bad of [min - 1, max + 1]) {
      expect(validateDynamicConfig({ [key]: bad })).toEqual([`${key}: ${bad} must be a whole number from ${min} to ${max}`]);
    }
  });

  it.each(booleans.map((f) => f.key))('%s refuses a word other than true, false, on or off', (key) => {
    for (const ok of [true, false, 'true', 'off']) expect(validateDynamicConfig({ [key]: ok })).toEqual([]);
    expect(validateDynamicConfig({ [key]: 'maybe' })).toEqual([expect.stringMatching(new RegExp(`^${key}: "maybe" must be true(,| or) false`))]);
  });

  it.each(DYNAMIC_FIELDS.filter((f) => f.default !== undefined).map((f) => [f.key, f.default] as const))(
    '%s set to its documented default %p reads as if unset',
    (key, value) => {
      const r = parseDynamicConfig(JSON.stringify(nested(key, value)));
      expect(r.ok).toBe(true);
      const { raw: _, ...config } = r.ok ? r.config : EMPTY_DYNAMIC_CONFIG;
      const { raw: __, ...empty } = EMPTY_DYNAMIC_CONFIG;
      expect(config).toEqual(empty);
    },
  );

  it("names only member keys that exist, as the defaults of keys that fall back to the member's own", () => {
    const memberKeys = new Set(FIELDS.map((f) => f.key));
    for (const f of DYNAMIC_FIELDS) if (f.memberKey) expect(memberKeys).toContain(f.memberKey);
  });

  it('fails a section that is not an object once, before its keys', () => {
    expect(validateDynamicConfig({ postgresql: 'x' })).toEqual(['postgresql: "x" must be an object']);
  });

  it('checks nested keys through their section', () => {
    expect(validateDynamicConfig(nested('postgresql.pg_hba', 'host all all all trust'))).toEqual([
      'postgresql.pg_hba: "host all all all trust" must be a list of pg_hba.conf lines',
    ]);
  });
});
