/** What every cluster command receives, and the two ways it reports: a result on stdout, a refusal on stderr. */
import type { ClusterClient } from './cluster-client';
import type { CtlCommand } from './ctl-args';
import type { CtlTarget } from './ctl-target';
import type { ExitCode } from './exit-codes';
import type { MemberApiOptions } from './member-api';

/** The outside world of a command: output streams and the environment. */
export interface CtlIo {
  readonly stdout: (text: string) => void;
  /** Progress and diagnostics; kept off stdout so `--json` output stays parseable. */
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly readStdin: () => string;
}

export interface CtlContext {
  readonly cmd: CtlCommand;
  readonly io: CtlIo;
  readonly target: CtlTarget;
  readonly cluster: ClusterClient;
  readonly api: MemberApiOptions;
}

/** Prints a result as JSON (with `--json`) or text. */
export function emit(ctx: Pick<CtlContext, 'cmd' | 'io'>, json: unknown, text: string): void {
  ctx.io.stdout(ctx.cmd.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
}

/** Reports a refusal or failure on stderr (and as JSON on stdout with `--json`) and returns its exit code. */
export function fail(ctx: Pick<CtlContext, 'cmd' | 'io'>, code: ExitCode, message: string): ExitCode {
  ctx.io.stderr(`pgha ${ctx.cmd.name}: ${message}\n`);
  if (ctx.cmd.json) ctx.io.stdout(`${JSON.stringify({ ok: false, exit_code: code, error: message })}\n`);
  return code;
}
