/** Keys of the credentials Secret; the Pod mounts them as files and points the agent at them. */
export const SUPERUSER_PASSWORD_KEY = 'superuser-password';
export const REPLICATION_PASSWORD_KEY = 'replication-password';
/** The REST API's basic-auth password; needed only with `restApiAuthentication` (the default). */
export const RESTAPI_PASSWORD_KEY = 'restapi-password';

/** The passwords `ClusterCredentials.fromPasswords` synthesizes a Secret from. */
export interface ClusterPasswords {
  readonly superuser: string;
  readonly replication: string;
  /**
   * The REST API's basic-auth password (key `restapi-password`). Required while `restApiAuthentication` is on (the
   * default), refused when it is off.
   * @default - none
   */
  readonly restApi?: string;
}

/**
 * Where the superuser, replication and REST API passwords come from. Passwords reach the agent only as files from a
 * mounted Secret, never through a ConfigMap or an environment literal.
 */
export class ClusterCredentials {
  /**
   * An existing Secret (yours, or one made by sealed-secrets, external-secrets, …) with the keys
   * `superuser-password`, `replication-password` and, with `restApiAuthentication` (the default),
   * `restapi-password`. Nothing secret is synthesized.
   */
  static fromSecret(secretName: string): ClusterCredentials {
    return new ClusterCredentials(secretName, undefined);
  }

  /**
   * Synthesizes the Secret `<name>-credentials` with these passwords. Only for output that stays private: the
   * passwords are in the manifests in clear text.
   */
  static fromPasswords(passwords: ClusterPasswords): ClusterCredentials {
    return new ClusterCredentials(undefined, { ...passwords });
  }

  private constructor(
    /** The referenced Secret, or undefined to synthesize `<name>-credentials`. */
    readonly secretName: string | undefined,
    readonly passwords: ClusterPasswords | undefined,
  ) {}
}
