import { chown } from 'node:fs/promises';

/**
 * The user Postgres and its tools run as, when the agent itself runs as another one. In a container the agent
 * already runs as the database's UID and passes nothing; tests run as root and pass an unprivileged user, because
 * Postgres refuses to run as root.
 */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

export interface SpawnWrapping {
  readonly runAs?: RunAs;
  /** Have the kernel SIGKILL the process when the agent dies (test runs). @default false */
  readonly killWithAgent?: boolean;
}

/**
 * The argv that runs `binary args` under the wrapping. `setpriv` execs, so the PID the agent sees is the PID of
 * the program itself, and signals reach it directly.
 */
export function wrapCommand(w: SpawnWrapping, binary: string, args: readonly string[]): string[] {
  const prefix: string[] = [];
  if (w.runAs || w.killWithAgent) {
    prefix.push('setpriv');
    if (w.runAs) prefix.push(`--reuid=${w.runAs.uid}`, `--regid=${w.runAs.gid}`, '--clear-groups');
    if (w.killWithAgent) prefix.push('--pdeathsig', 'KILL');
    prefix.push('--');
  }
  return [...prefix, binary, ...args];
}

/** Gives a file or directory the agent created to the Postgres user (no-op without `runAs`). */
export async function handOver(path: string, runAs: RunAs | undefined): Promise<void> {
  if (runAs) await chown(path, runAs.uid, runAs.gid);
}

/**
 * The environment for Postgres and its tools: only what they need. The agent's own environment may hold the
 * passwords of the Secret (PATRONI_*_PASSWORD) and stray PG* variables, none of which must leak into a child.
 * `switchesUser`: the child runs as another user (`runAs`), so the agent's HOME is not its own: libpq would try the
 * client certificate under it (`~/.postgresql/postgresql.crt`) and fail a TLS connection on "permission denied".
 */
export function childEnvironment(
  extra: Readonly<Record<string, string>> = {},
  parent: NodeJS.ProcessEnv = process.env,
  opts: { readonly switchesUser?: boolean } = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: parent.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    // English messages from the tools, so pg_controldata output can be parsed.
    LC_MESSAGES: 'C',
  };
  // The user lookup that the image's entrypoint arranges for a UID without a passwd entry (OpenShift's arbitrary
  // UIDs): initdb and postgres refuse to run when getpwuid() fails, so the nss_wrapper settings must reach them.
  for (const key of NSS_WRAPPER_ENV) if (parent[key] !== undefined) env[key] = parent[key];
  if (parent.HOME !== undefined && !opts.switchesUser) env.HOME = parent.HOME;
  return { ...env, ...extra };
}

/** Variables that make nss_wrapper answer user and group lookups (set by agent/image/entrypoint.sh). */
export const NSS_WRAPPER_ENV: readonly string[] = ['LD_PRELOAD', 'NSS_WRAPPER_PASSWD', 'NSS_WRAPPER_GROUP'];
