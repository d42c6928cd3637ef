/** Keys of the credentials Secret; the Pod mounts them as files and points the agent at them. */
export const SUPERUSER_PASSWORD_KEY = 'superuser-password';
export const REPLICATION_PASSWORD_KEY = 'replication-password';

/**
 * Where the superuser and replication passwords come from. Passwords reach the agent only as files from a mounted
 * Secret, never through a ConfigMap or an environment literal.
 */
export class ClusterCredentials {
  /**
   * An existing Secret (yours, or one made by sealed-secrets, external-secrets, …) with the keys
   * `superuser-password` and `replication-password`. Nothing secret is synthesized.
   */
  static fromSecret(secretName: string): ClusterCredentials {
    return new ClusterCredentials(secretName, undefined);
  }

  /**
   * Synthesizes the Secret `<name>-credentials` with these passwords. Only for output that stays private: the
   * passwords are in the manifests in clear text.
   */
  static fromPasswords(passwords: { readonly superuser: string; readonly replication: string }): ClusterCredentials {
    return new ClusterCredentials(undefined, { ...passwords });
  }

  private constructor(
    /** The referenced Secret, or undefined to synthesize `<name>-credentials`. */
    readonly secretName: string | undefined,
    readonly passwords: { readonly superuser: string; readonly replication: string } | undefined,
  ) {}
}
