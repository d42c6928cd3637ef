// README.md shows the cluster commands exactly as `pgha help` lists them; both come from CTL_COMMAND_SPECS, so the
// documented commands and options cannot drift from what the parser takes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandSummary, USAGE } from '../../agent/src/cli/dispatch';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const operate = readme.slice(readme.indexOf('\n## Operate\n'), readme.indexOf('\n## ', readme.indexOf('\n## Operate\n') + 1));

describe('README command list', () => {
  it('is the generated command summary, verbatim, in the Operate section', () => {
    expect(operate).toContain(`\`\`\`text\n${commandSummary()}\n\`\`\``);
  });

  it('is what pgha help prints', () => {
    expect(USAGE).toContain(
      commandSummary()
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  });
});
