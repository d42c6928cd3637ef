import { commandSummary, commandUsage, parseCommand, USAGE, UsageError } from '../../../agent/src/cli/dispatch';
import { CTL_COMMAND_SPECS, SHARED_OPTIONS } from '../../../agent/src/cli/ctl-args';
import { main } from '../../../agent/src/main';

describe('parseCommand', () => {
  it.each([
    [['agent', '--config', '/etc/pgha.yml'], { command: 'agent', configFile: '/etc/pgha.yml' }],
    [['agent', '--config=/x.yml'], { command: 'agent', configFile: '/x.yml' }],
    [['agent'], { command: 'agent', configFile: undefined }],
    [[], { command: 'help' }],
    [['--version'], { command: 'version' }],
    [['list', '--help'], { command: 'help', topic: 'list' }],
    [['reinit', '-h'], { command: 'help', topic: 'reinit' }],
    [['switchover', '--bogus', '--help'], { command: 'help', topic: 'switchover' }],
    [['help', 'switchover'], { command: 'help', topic: 'switchover' }],
  ])('parses %p', (argv, cmd) => {
    expect(parseCommand(argv)).toEqual(cmd);
  });
  it.each([[['agnet']], [['agent', '--config']], [['agent', '--verbose']]])('fails on %p with the usage', (argv) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(/usage: pgha agent/);
  });
  it('takes -h after -- as a member name, not as a request for help', () => {
    expect(parseCommand(['restart', '--', '-h'])).toMatchObject({ command: 'ctl', members: ['-h'] });
  });
});

/** The flags of each option line of a help text (`  -f, --force ...   help`), as the table spells them. */
function optionFlags(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('  -'))
    .map((l) =>
      l
        .trim()
        .split(/ {2,}/)[0]!
        .split(', ')
        .map((f) => f.split(' ')[0]!),
    );
}

describe('commandUsage', () => {
  it("gives one command's usage line with the target, output and exit-code notes", () => {
    const text = commandUsage('reinit');
    expect(text.split('\n')[0]).toBe('usage: pgha reinit MEMBER [--force]');
    expect(text).toContain('exit codes: 0 done');
  });

  it('offers scheduled restarts', () => {
    expect(commandUsage('restart')).toContain('--scheduled ISO8601');
    expect(parseCommand(['restart', '--scheduled', '2030-01-01T00:00:00Z'])).toMatchObject({ name: 'restart', scheduled: '2030-01-01T00:00:00Z' });
  });

  it.each([
    [
      ['list', '--help'],
      ['--scope NAME', '-n, --namespace NS', '--json', '-h, --help'],
    ],
    [
      ['reinit', '-h'],
      ['usage: pgha reinit MEMBER', '--force, -f, --yes, -y', '--kubeconfig FILE'],
    ],
    [
      ['edit-config', '--help'],
      ['--set, -s KEY=VALUE', '-p, --pg PARAM=VALUE', '--apply FILE|-'],
    ],
  ])("answers %p with that command's help and its options", (argv, expected) => {
    const cmd = parseCommand(argv);
    expect(cmd).toEqual({ command: 'help', topic: argv[0] });
    const text = commandUsage(argv[0]!);
    for (const e of expected) expect(text).toContain(e);
  });

  it.each(CTL_COMMAND_SPECS.map((s) => [s.name, s] as const))('lists for %s exactly the options the table gives it', (name, spec) => {
    const own = spec.options.map((o) => [...o.flags]);
    const shared = SHARED_OPTIONS.map((o) => [...o.flags]);
    expect(optionFlags(commandUsage(name))).toEqual([...own, ...shared, ['-h', '--help']]);
    // The synopsis names the same options, and the help line of each is there.
    const usageLine = commandUsage(name).split('\n')[0]!;
    expect(usageLine.match(/(?<=[[ ])--?[a-z-]+/g) ?? []).toEqual(spec.options.map((o) => o.flags[0]));
    for (const o of spec.options) expect(commandUsage(name)).toContain(o.help);
  });

  it("gives the agent's own usage, with --validate-config", () => {
    expect(commandUsage('agent')).toMatch(/^usage: pgha agent \[--config FILE\]\n {7}pgha agent --validate-config \[FILE\]\n/);
  });

  it('parses pgha agent --validate-config FILE as patroni --validate-config does', () => {
    expect(parseCommand(['agent', '--validate-config', '/etc/patroni.yml'])).toEqual({ command: 'agent', configFile: '/etc/patroni.yml', validateOnly: true });
    expect(parseCommand(['agent', '--config', '/f.yml', '--validate-config'])).toEqual({ command: 'agent', configFile: '/f.yml', validateOnly: true });
  });
});

describe('pgha help', () => {
  it('lists every command, the shared options and where the target comes from', () => {
    expect(USAGE).toContain(
      commandSummary()
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
    for (const spec of CTL_COMMAND_SPECS) expect(commandSummary()).toContain(`pgha ${spec.name}`);
    expect(optionFlags(USAGE)).toEqual([...SHARED_OPTIONS.map((o) => [...o.flags]), ['-h', '--help']]);
    expect(USAGE).toContain('--kubeconfig (or kubernetes.kubeconfig in the file), else KUBECONFIG');
    expect(USAGE).toContain('else ~/.kube/config, else the in-cluster service account');
    expect(USAGE).toContain("namespace: -n, else the file, else PATRONI_KUBERNETES_NAMESPACE, else the kubeconfig context's namespace, else default");
    expect(USAGE).toContain('exit codes: 0 done, 1 unexpected error, 2 usage error, 3 refused or not possible, 4 not reachable or timed out');
  });

  it('puts each summary on the synopsis line, or under it at the same column when the synopsis is long', () => {
    const lines = commandSummary().split('\n');
    const column = lines[0]!.indexOf(CTL_COMMAND_SPECS[0]!.summary);
    for (const spec of CTL_COMMAND_SPECS) {
      const at = lines.findIndex((l) => l === `pgha ${spec.name}` || l.startsWith(`pgha ${spec.name} `));
      const withSummary = lines.slice(at, at + 2).find((l) => l.endsWith(spec.summary))!;
      expect(withSummary.indexOf(spec.summary)).toBe(column);
    }
  });
});

describe('main with help', () => {
  it.each([[['help']], [['list', '--help']], [['reinit', '-h']], [['help', 'agent']], [['--version']]])('prints %p on stdout and exits 0', async (argv) => {
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(argv, {})).toBe(0);
      expect(out).toHaveBeenCalledTimes(1);
    } finally {
      out.mockRestore();
    }
  });

  it('exits 2 for help on an unknown command', async () => {
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['help', 'lsit'], {})).toBe(2);
      expect(err).toHaveBeenCalledWith(expect.stringContaining('no help for "lsit"'));
    } finally {
      err.mockRestore();
    }
  });
});
