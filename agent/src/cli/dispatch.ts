/**
 * Command dispatch for the `pgha` binary: `pgha agent --config FILE` runs the HA agent; `pgha list`, `switchover`
 * and the other cluster commands are parsed by ctl-args.ts. Parsing only: the handlers come from main.ts (the agent)
 * and ctl-main.ts (the cluster commands).
 */
import {
  CTL_COMMAND_SPECS,
  CTL_COMMANDS,
  type CtlCommand,
  type CtlCommandName,
  type CtlCommandSpec,
  ctlCommandSpec,
  type CtlOptionSpec,
  parseCtlArgs,
  SHARED_OPTIONS,
} from './ctl-args';
import { UsageError } from './usage-error';

export { UsageError } from './usage-error';
export type { CtlCommand } from './ctl-args';
export interface AgentCommand {
  readonly command: 'agent';
  /** Configuration file; without it, the environment alone configures the agent. */
  readonly configFile?: string;
  /** `--validate-config`: check the file and the environment, print every problem, and exit (0 valid, 1 not). */
  readonly validateOnly?: boolean;
}

export interface HelpCommand {
  readonly command: 'help';
  /** Help for one command; all of them when absent. */
  readonly topic?: string;
}

export interface VersionCommand {
  readonly command: 'version';
}

export type Command = AgentCommand | HelpCommand | VersionCommand | CtlCommand;

// Help texts are written from CTL_COMMAND_SPECS (ctl-args.ts), so they list exactly what the parser takes.

/** Where summaries and option help start in the help texts. */
const COLUMN = 40;
const HELP_FLAG = { flags: ['-h', '--help'], help: 'this help' };
const CTL_NOTES = `-c FILE defaults to $PATRONICTL_CONFIG_FILE (the members' Pods set it); options override what the file says.
cluster: --scope, else the file's scope, else PATRONI_SCOPE.
namespace: -n, else the file, else PATRONI_KUBERNETES_NAMESPACE, else the kubeconfig context's namespace, else default.
kubeconfig: found as kubectl does: --kubeconfig (or kubernetes.kubeconfig in the file), else KUBECONFIG,
            else ~/.kube/config, else the in-cluster service account.
REST credentials: ctl.authentication in the file, else restapi.authentication (password or password_file) key by
                  key from the file, else PATRONI_RESTAPI_USERNAME and PATRONI_RESTAPI_PASSWORD or _PASSWORD_FILE.
output: a table by default, --json for JSON on stdout; progress goes to stderr.
exit codes: 0 done, 1 unexpected error, 2 usage error, 3 refused or not possible, 4 not reachable or timed out.`;

/** `left` padded to the column and `right` after it, or on the next line when `left` is too wide. */
function columns(indent: string, left: string, right: string, column = COLUMN): string[] {
  const head = `${indent}${left}`;
  return head.length + 2 <= column ? [`${head.padEnd(column)}${right}`] : [head, `${' '.repeat(column)}${right}`];
}

/** `pgha NAME MEMBER [--flag VALUE]...`: the members, then every option of the command in table order. */
export function synopsis(spec: CtlCommandSpec): string {
  const members = spec.members === 'one' ? ['MEMBER'] : spec.members === 'any' ? ['[MEMBER...]'] : [];
  const options = spec.options.map((o) => {
    const word = o.value === undefined ? o.flags[0]! : `${o.flags[0]} ${o.value}`;
    return `${o.required ? word : `[${word}]`}${o.repeatable ? '...' : ''}`;
  });
  return ['pgha', spec.name, ...members, ...options].join(' ');
}

function optionLines(options: readonly Pick<CtlOptionSpec, 'flags' | 'value' | 'help'>[]): string[] {
  return options.flatMap((o) => columns('  ', `${o.flags.join(', ')}${o.value === undefined ? '' : ` ${o.value}`}`, o.help));
}

/** Every cluster command with its synopsis and summary: what `pgha help` lists (indented by 2) and README.md shows. */
export function commandSummary(): string {
  return CTL_COMMAND_SPECS.flatMap((spec) => columns('', synopsis(spec), spec.summary, COLUMN - 2)).join('\n');
}

const sharedHelp = () => ['', 'options of every cluster command:', ...optionLines([...SHARED_OPTIONS, HELP_FLAG]), '', CTL_NOTES];

/** One line for error messages; `pgha help` prints the whole USAGE. */
const SHORT_USAGE = `usage: pgha agent [--config FILE] | pgha <${CTL_COMMANDS.join('|')}> [options]; pgha help for details`;
export const USAGE = [
  'usage: pgha agent [--config FILE]',
  `       pgha <${CTL_COMMANDS.join('|')}> [options]`,
  '       pgha help [COMMAND] | pgha COMMAND --help | pgha --version',
  '',
  "cluster commands (read Kubernetes objects as patronictl does; actions go to the leader's REST API):",
  ...commandSummary()
    .split('\n')
    .map((l) => `  ${l}`),
  ...sharedHelp(),
].join('\n');

const wantsHelp = (args: readonly string[]) => {
  const options = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  return options.includes('--help') || options.includes('-h');
};

/** The usage of one command (`pgha COMMAND --help`): synopsis, summary, its options, then the shared ones. */
export function commandUsage(topic: string): string {
  if (topic === 'agent') {
    return [
      'usage: pgha agent [--config FILE]',
      '       pgha agent --validate-config [FILE]',
      '  runs the HA agent; the file and the PATRONI_* environment configure it. --validate-config checks them as the',
      '  agent would start, lists every problem and every key without effect, and exits 0 (it would start) or 1.',
    ].join('\n');
  }
  const spec = ctlCommandSpec(topic as CtlCommandName);
  const own = spec.options.length ? [`options of pgha ${spec.name}:`, ...optionLines(spec.options)] : [];
  return [`usage: ${synopsis(spec)}`, `  ${spec.summary}`, '', ...own, ...sharedHelp()].join('\n');
}

export function parseCommand(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h')
    return { command: 'help', ...(rest[0] ? { topic: rest[0] } : {}) };
  if (command === '--version' || command === 'version') return { command: 'version' };
  const known = command === 'agent' || (CTL_COMMANDS as readonly string[]).includes(command);
  if (known && wantsHelp(rest)) return { command: 'help', topic: command };
  if ((CTL_COMMANDS as readonly string[]).includes(command)) return parseCtlArgs(command as CtlCommandName, rest);
  if (command !== 'agent') throw new UsageError(`unknown command ${JSON.stringify(command)}; ${SHORT_USAGE}`);
  let configFile: string | undefined;
  let validateOnly = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--validate-config') {
      // As patroni --validate-config FILE: the file may follow the flag.
      validateOnly = true;
      if (rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('-')) configFile = rest[++i];
    } else if (arg === '--config' || arg === '-c') {
      configFile = rest[++i];
      if (configFile === undefined) throw new UsageError(`--config needs a file; ${SHORT_USAGE}`);
    } else if (arg.startsWith('--config=')) {
      configFile = arg.slice('--config='.length);
    } else {
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}; ${SHORT_USAGE}`);
    }
  }
  return { command: 'agent', configFile, ...(validateOnly ? { validateOnly } : {}) };
}
