// Runs the compiled `pgha` binary (the agent's main.js) as a script would, and collects its output and exit code.
import { spawn } from 'node:child_process';
import { agentBuild, NODE_PATH } from '../agent/harness';

export interface PghaResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `pgha ARGS` with only PATH, NODE_PATH and `env` in its environment; `input` goes to stdin. */
export function runPgha(args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<PghaResult> {
  const child = spawn(process.execPath, [agentBuild(), ...args], { env: { PATH: process.env.PATH, NODE_PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdin.end(input ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
