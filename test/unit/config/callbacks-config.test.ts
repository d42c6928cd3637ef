import { loadAgentConfig } from '../../../agent/src/config/agent-config';
import { commandWords } from '../../../agent/src/config/command-words';
import { MEMBER_ENV } from './member-env';

const env = MEMBER_ENV;

describe('commandWords', () => {
  it.each([
    ['/bin/notify', ['/bin/notify']],
    ['  /bin/notify   --to ops  ', ['/bin/notify', '--to', 'ops']],
    [`/bin/sh -c 'echo "$1" >> /tmp/x' cb`, ['/bin/sh', '-c', 'echo "$1" >> /tmp/x', 'cb']],
    ['say "a \\"quoted\\" word" \\$HOME', ['say', 'a "quoted" word', '$HOME']],
    ['a\'\'b ""', ['ab', '']],
    ['one\\ word', ['one word']],
  ])('%s', (line, words) => {
    expect(commandWords(line)).toEqual(words);
  });

  it.each([
    ["echo 'open", /unterminated single quote at character 6/],
    ['echo "open', /unterminated double quote at character 6/],
    ['echo \\', /trailing backslash/],
  ])('refuses %s', (line, message) => {
    expect(() => commandWords(line)).toThrow(message);
  });
});

describe('postgresql.callbacks', () => {
  it("are read per action, as Patroni's file has them", () => {
    const yaml = 'postgresql:\n  callbacks:\n    on_start: /usr/local/bin/cb\n    on_role_change: "/usr/local/bin/cb --verbose"\n';
    expect(loadAgentConfig({ yaml, env }).postgresql.callbacks).toEqual({ on_start: '/usr/local/bin/cb', on_role_change: '/usr/local/bin/cb --verbose' });
  });

  it('default to none', () => {
    expect(loadAgentConfig({ env }).postgresql.callbacks).toEqual({});
  });

  it('refuse an unknown action, naming it and the allowed ones', () => {
    expect(() => loadAgentConfig({ yaml: 'postgresql:\n  callbacks:\n    on_promote: /bin/true\n', env })).toThrow(
      /postgresql\.callbacks\.on_promote="\/bin\/true"; unknown key; .*on_role_change/,
    );
  });

  it('refuse a command line with an unbalanced quote, naming the key and the value', () => {
    expect(() => loadAgentConfig({ yaml: 'postgresql:\n  callbacks:\n    on_stop: "/bin/cb \'x"\n', env })).toThrow(
      /postgresql\.callbacks\.on_stop="\/bin\/cb 'x"; must be a command line with balanced quotes \(unterminated single quote at character 9\)/,
    );
  });

  it('refuse an empty command', () => {
    expect(() => loadAgentConfig({ yaml: 'postgresql:\n  callbacks:\n    on_stop: "  "\n', env })).toThrow(
      /postgresql\.callbacks\.on_stop=.*must be a non-empty command line/,
    );
  });
});
