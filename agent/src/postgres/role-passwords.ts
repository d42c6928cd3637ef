import type { PgRole } from '../config/agent-config';
import { rereadPasswordFile } from '../config/agent-config';

/** The two roles the agent holds passwords for. */
export type AgentRole = 'superuser' | 'replication';
export const AGENT_ROLES: readonly AgentRole[] = ['superuser', 'replication'];

/** What a re-read found: the roles whose password changed, and the files that could not be used (kept as they were). */
export interface PasswordReread {
  readonly changed: readonly AgentRole[];
  readonly unusable: readonly { readonly role: AgentRole; readonly file: string; readonly why: string }[];
}

/**
 * The superuser and replication passwords in force. A role configured with `password_file` follows its file: a
 * rotated Kubernetes Secret changes the mounted file, and `reread()` picks the new text up. The password before the
 * change is kept for connecting until the database is known to accept the new one (`settled`), so a member whose
 * file changed before the primary set the new password still reaches its own Postgres.
 */
export class RolePasswords {
  private readonly current: Record<AgentRole, string>;
  private readonly previous: Partial<Record<AgentRole, string>> = {};

  constructor(
    private readonly roles: Readonly<Record<AgentRole, PgRole>>,
    private readonly readFile: (path: string) => string,
  ) {
    this.current = { superuser: roles.superuser.password, replication: roles.replication.password };
  }

  username(role: AgentRole): string {
    return this.roles[role].username;
  }

  password(role: AgentRole): string {
    return this.current[role];
  }

  /** The passwords to try for `role`, the one in force first. */
  candidates(role: AgentRole): readonly string[] {
    const before = this.previous[role];
    return before === undefined ? [this.current[role]] : [this.current[role], before];
  }

  /** Re-reads every password file. An unreadable or empty file changes nothing (a Secret half-written, a typo). */
  reread(): PasswordReread {
    const changed: AgentRole[] = [];
    const unusable: { role: AgentRole; file: string; why: string }[] = [];
    for (const role of AGENT_ROLES) {
      const file = this.roles[role].passwordFile;
      if (file === undefined) continue;
      const read = rereadPasswordFile(file, this.readFile);
      if (!('password' in read)) unusable.push({ role, file, why: read.why });
      else if (read.password !== this.current[role]) {
        this.previous[role] = this.current[role];
        this.current[role] = read.password;
        changed.push(role);
      }
    }
    return { changed, unusable };
  }

  /** The database accepts the password in force for `role`: the one before it is no longer tried. */
  settled(role: AgentRole): void {
    delete this.previous[role];
  }
}
