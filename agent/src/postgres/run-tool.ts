import { spawn } from 'node:child_process';
import { childEnvironment, type SpawnWrapping, wrapCommand } from './run-as';

export interface ToolRun extends SpawnWrapping {
  readonly binary: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** Extra environment (e.g. PGPASSFILE). */
  readonly env?: Readonly<Record<string, string>>;
  /** After this the tool gets SIGTERM, then SIGKILL 5 s later. */
  readonly timeoutMs: number;
}

export interface ToolResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs a Postgres tool to completion and collects its output. Never throws for a non-zero exit; the caller decides. */
export function runTool(r: ToolRun): Promise<ToolResult> {
  const argv = wrapCommand(r, r.binary, r.args);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: r.cwd,
      env: childEnvironment(r.env, process.env, { switchesUser: r.runAs !== undefined }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
    }, r.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** The fields an error about a failed tool carries: how it ended and the end of its output. */
export function toolFailureDetails(tool: string, res: ToolResult): Record<string, unknown> {
  const tail = (s: string) => s.trimEnd().split('\n').slice(-20).join('\n');
  return { tool, exitCode: res.code, signal: res.signal, timedOut: res.timedOut, stderr: tail(res.stderr), stdout: tail(res.stdout) };
}
