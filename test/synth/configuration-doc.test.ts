// docs/configuration.md is generated (`npm run synth`, src/outputs/configuration-reference.ts) from the agent's own
// tables; the committed copy must be exactly what they generate now.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIELDS } from '../../agent/src/config/schema';
import { DYNAMIC_FIELDS } from '../../agent/src/ha/dynamic-fields';
import { configurationReference } from '../../src/outputs/configuration-reference';

const root = join(__dirname, '..', '..');
const committed = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
const generated = configurationReference();

describe('docs/configuration.md', () => {
  it('is what npm run synth generates from the agent’s tables (run it and commit the result)', () => {
    expect(committed).toBe(generated);
  });

  it.each([...FIELDS.map((f) => ['member', f.key]), ...DYNAMIC_FIELDS.map((f) => ['dynamic', f.key])])('lists the %s key %s in a table row', (_kind, key) => {
    expect(generated).toMatch(new RegExp(`^\\| \`${key.replace(/\./g, '\\.')}\` \\|`, 'm'));
  });

  it('is linked from the README', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('(docs/configuration.md)');
  });
});
