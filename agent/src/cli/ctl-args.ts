/**
 * Argument parsing for the `pgha` cluster commands (`list`, `switchover`, ...). Pure: no environment, files or I/O;
 * `UsageError` for anything it cannot accept. What the flags mean is documented in `CTL_USAGE`.
 */
import { UsageError } from './usage-error';

export const CTL_COMMANDS = ['list', 'switchover', 'failover', 'pause', 'resume', 'show-config', 'edit-config', 'history', 'restart', 'reinit'] as const;
export type CtlCommandName = (typeof CTL_COMMANDS)[number];

/** Where the cluster is and how to reach it; every field may also come from `-c FILE` or the environment. */
export interface TargetOptions {
  /** An agent (or patronictl) configuration file to read scope, namespace, kubeconfig and REST credentials from. */
  readonly configFile?: string;
  readonly scope?: string;
  readonly namespace?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Lock and config live on Endpoints rather than ConfigMaps. */
  readonly useEndpoints?: boolean;
}

export interface CtlCommand {
  readonly command: 'ctl';
  readonly name: CtlCommandName;
  readonly target: TargetOptions;
  readonly json: boolean;
  /** Positional arguments: member names for `restart`/`reinit`. */
  readonly members: readonly string[];
  readonly leader?: string;
  readonly candidate?: string;
  /** ISO-8601 time for a scheduled switchover or restart. */
  readonly scheduled?: string;
  /** Seconds to wait for an action to complete before giving up (exit code 4). */
  readonly timeoutSeconds?: number;
  /** `edit-config --set key=value` (dotted keys, YAML values) in order. */
  readonly sets: readonly (readonly [string, string])[];
  /** `edit-config -p name=value`: PostgreSQL parameters. */
  readonly pgParams: readonly (readonly [string, string])[];
  /** `edit-config --apply FILE`: a YAML patch (`-` reads stdin). */
  readonly applyFile?: string;
  /** `restart --pending`: only members with pending_restart. */
  readonly pending: boolean;
  /** `restart --role primary|replica`. */
  readonly role?: 'primary' | 'replica';
  /** `reinit --force`, `failover --force` (no leader check). */
  readonly force: boolean;
}

export const CTL_USAGE = `cluster commands (read Kubernetes objects like patronictl; actions go to the leader's REST API):
  pgha list                                     members, roles, states, timelines and lag
  pgha history                                  timeline history
  pgha show-config                              the dynamic configuration (<scope>-config)
  pgha edit-config [--set KEY=VALUE]... [-p PARAM=VALUE]... [--apply FILE|-]
                                                change it (dotted keys, YAML values, null deletes);
                                                with none of these, opens $EDITOR
  pgha switchover [--leader NAME] [--candidate NAME] [--scheduled ISO8601]
  pgha failover --candidate NAME
  pgha pause | resume
  pgha restart [MEMBER...] [--role primary|replica] [--pending]
  pgha reinit MEMBER [--force]
target: -c FILE (agent config), --scope NAME, -n/--namespace NS, --kubeconfig FILE, --context NAME,
        --use-endpoints; otherwise PATRONI_SCOPE, PATRONI_KUBERNETES_NAMESPACE, KUBECONFIG, in-cluster account.
REST credentials: restapi.authentication in FILE, or PATRONI_RESTAPI_USERNAME / PATRONI_RESTAPI_PASSWORD.
output: a table by default, --json for JSON on stdout; progress goes to stderr.
--timeout SECONDS: how long switchover/failover/pause/resume wait for the result.
exit codes: 0 done, 1 unexpected error, 2 usage error, 3 refused or not possible, 4 not reachable or timed out.`;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Flags that take a value, and the field each fills. */
const VALUE_FLAGS: Readonly<Record<string, string>> = {
  '-c': 'configFile',
  '--config': 'configFile',
  '--scope': 'scope',
  '-n': 'namespace',
  '--namespace': 'namespace',
  '--kubeconfig': 'kubeconfig',
  '--context': 'context',
  '--leader': 'leader',
  '--primary': 'leader',
  '--master': 'leader',
  '--candidate': 'candidate',
  '--scheduled': 'scheduled',
  '--timeout': 'timeout',
  '--set': 'set',
  '-s': 'set',
  '-p': 'pg',
  '--pg': 'pg',
  '--apply': 'apply',
  '--role': 'role',
};

/** Which optional flags each command accepts besides the target and `--json`. */
const ALLOWED: Readonly<Record<CtlCommandName, readonly string[]>> = {
  list: [],
  history: [],
  'show-config': [],
  'edit-config': ['set', 'pg', 'apply'],
  switchover: ['leader', 'candidate', 'scheduled', 'timeout', 'force'],
  failover: ['leader', 'candidate', 'timeout', 'force'],
  pause: ['timeout'],
  resume: ['timeout'],
  restart: ['members', 'role', 'pending', 'force'],
  reinit: ['members', 'force'],
};

function keyValue(flag: string, raw: string): readonly [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new UsageError(`${flag} needs KEY=VALUE, got ${JSON.stringify(raw)}`);
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

/** Parses the arguments after the command name. */
export function parseCtlArgs(name: CtlCommandName, args: readonly string[]): CtlCommand {
  const target: Mutable<TargetOptions> = {};
  const cmd: Mutable<Omit<CtlCommand, 'target'>> = { command: 'ctl', name, json: false, members: [], sets: [], pgParams: [], pending: false, force: false };
  const sets: (readonly [string, string])[] = [];
  const pgParams: (readonly [string, string])[] = [];
  const members: string[] = [];
  const allowed = new Set(ALLOWED[name]);
  const refuse = (what: string) => new UsageError(`pgha ${name} does not take ${what}`);
  for (let i = 0; i < args.length; i++) {
    let arg = args[i]!;
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0 && VALUE_FLAGS[arg.slice(0, eq)]) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '--json') cmd.json = true;
    else if (arg === '--use-endpoints') target.useEndpoints = true;
    else if (arg === '--pending' || arg === '--force' || arg === '-f' || arg === '--yes' || arg === '-y') {
      const field = arg === '--pending' ? 'pending' : 'force';
      if (!allowed.has(field)) throw refuse(arg);
      cmd[field] = true;
    } else if (VALUE_FLAGS[arg]) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      const field = VALUE_FLAGS[arg]!;
      if (['configFile', 'scope', 'namespace', 'kubeconfig', 'context'].includes(field)) {
        (target as Record<string, string>)[field] = value;
        continue;
      }
      if (!allowed.has(field)) throw refuse(arg);
      if (field === 'set') sets.push(keyValue(arg, value));
      else if (field === 'pg') pgParams.push(keyValue(arg, value));
      else if (field === 'apply') cmd.applyFile = value;
      else if (field === 'timeout') {
        if (!/^\d+(\.\d+)?$/.test(value)) throw new UsageError(`--timeout needs a number of seconds, got ${JSON.stringify(value)}`);
        cmd.timeoutSeconds = Number(value);
      } else if (field === 'role') {
        if (value !== 'primary' && value !== 'replica') throw new UsageError(`--role must be primary or replica, got ${JSON.stringify(value)}`);
        cmd.role = value;
      } else if (field === 'scheduled') {
        if (Number.isNaN(Date.parse(value))) throw new UsageError(`--scheduled needs an ISO-8601 time, got ${JSON.stringify(value)}`);
        cmd.scheduled = value;
      } else (cmd as Record<string, unknown>)[field] = value;
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${JSON.stringify(arg)} for pgha ${name}`);
    } else {
      if (!allowed.has('members')) throw refuse(`the argument ${JSON.stringify(arg)}`);
      members.push(arg);
    }
  }
  if (name === 'failover' && !cmd.candidate) throw new UsageError('pgha failover needs --candidate NAME');
  if (name === 'reinit' && members.length !== 1) throw new UsageError('pgha reinit needs exactly one MEMBER');
  if (cmd.candidate !== undefined && cmd.candidate === cmd.leader) throw new UsageError('--candidate must differ from --leader');
  return { ...cmd, target, members, sets, pgParams };
}
