import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-33';
import { stringify } from 'yaml';
import {
  CLIENT_LABEL,
  ClusterCredentials,
  DEFAULT_IMAGE,
  DEFAULT_RESTAPI_USERNAME,
  Persistence,
  Platform,
  REPLICATION_PASSWORD_KEY,
  RESTAPI_PASSWORD_KEY,
  StoreMode,
  SUPERUSER_PASSWORD_KEY,
} from '../../constructs';
import { API_PORT, CONFIG_FILE_NAME, POSTGRES_PORT } from '../../constructs/agent-config-file';
import { CONFIG_DIGEST_ANNOTATION } from '../../constructs/postgres-stateful-set';
import { assertNoMarkers, type Manifest, markerPattern, modelObjects, type Parameter } from './parameters';

interface TemplateParameter extends Parameter {
  readonly displayName: string;
  readonly description: string;
  /** Default value; absent for generated ones. */
  readonly value?: string;
  /** A whole-number parameter, substituted as a number (`${{NAME}}`) where it is a whole field. */
  readonly integer?: boolean;
  readonly generate?: string;
  readonly required?: boolean;
}

const PASSWORD_EXPRESSION = '[a-zA-Z0-9]{24}';

/**
 * Which Template: where the data lives, and where the passwords come from — generated into the Secret
 * `<CLUSTER_NAME>-credentials` the Template creates, or a Secret the user made (or syncs) beforehand, named in
 * `CREDENTIALS_SECRET`, of which the Template creates nothing. A Template cannot leave an object out by a parameter,
 * hence one Template per choice.
 */
export interface TemplateVariant {
  readonly persistence: Persistence;
  /** @default false - the Template generates the passwords and creates the Secret */
  readonly existingSecret?: boolean;
}

/** The Template's name and file stem: `pgha-<persistence>[-existing-secret]`. */
export function templateName(v: TemplateVariant): string {
  return `pgha-${v.persistence}${v.existingSecret ? '-existing-secret' : ''}`;
}

/** Every Template `npm run synth` writes to templates/. */
export const TEMPLATE_VARIANTS: readonly TemplateVariant[] = [Persistence.EPHEMERAL, Persistence.PERSISTENT].flatMap((persistence) => [
  { persistence },
  { persistence, existingSecret: true },
]);

function passwordParameters(): Record<string, TemplateParameter> {
  return {
    SUPERUSER_PASSWORD: {
      marker: 'p0superuser0p',
      displayName: 'Superuser password',
      description: 'Password of the postgres superuser; generated when not given.',
      generate: PASSWORD_EXPRESSION,
    },
    REPLICATION_PASSWORD: {
      marker: 'p0replication0p',
      displayName: 'Replication password',
      description: 'Password replicas stream with; generated when not given.',
      generate: PASSWORD_EXPRESSION,
    },
    RESTAPI_PASSWORD: {
      marker: 'p0apipassword0p',
      displayName: 'REST API password',
      description: `Basic-auth password of the agents' REST API (user ${DEFAULT_RESTAPI_USERNAME}), required for switchover, restart, reinitialize and configuration changes; key ${RESTAPI_PASSWORD_KEY} of the credentials Secret. Generated when not given.`,
      generate: PASSWORD_EXPRESSION,
    },
  };
}

function secretParameter(): Record<string, TemplateParameter> {
  return {
    CREDENTIALS_SECRET: {
      marker: 'p0credentials0p',
      displayName: 'Credentials Secret',
      description: `Name of a Secret in the project, created (or synced) before this Template is processed, with the keys ${SUPERUSER_PASSWORD_KEY}, ${REPLICATION_PASSWORD_KEY} and ${RESTAPI_PASSWORD_KEY}. The members mount it; the Template creates no Secret. Change its keys to rotate the passwords: no restart is needed.`,
      required: true,
    },
  };
}

function parameters(v: TemplateVariant): Record<string, TemplateParameter> {
  const { persistence } = v;
  const common: Record<string, TemplateParameter> = {
    CLUSTER_NAME: {
      marker: 'p0name0p',
      displayName: 'Cluster name',
      description:
        "Name of the cluster (the agent's scope). Every object's name derives from it (the read-write Service <name>, <name>-replicas, <name>-credentials, ...), so instances in one project need different names. A DNS label of at most 50 characters.",
      value: 'pgha',
      required: true,
    },
    IMAGE: {
      marker: 'p0image0p',
      displayName: 'Agent image',
      description: 'Image running the pgha agent and PostgreSQL.',
      value: DEFAULT_IMAGE,
      required: true,
    },
    REPLICAS: { marker: 7775, integer: true, displayName: 'Members', description: 'Number of PostgreSQL members (at least 1).', value: '3', required: true },
    CPU_REQUEST: { marker: '7774m', displayName: 'CPU request', description: 'CPU each member requests.', value: '250m', required: true },
    MEMORY_REQUEST: { marker: '7772Mi', displayName: 'Memory request', description: 'Memory each member requests.', value: '512Mi', required: true },
    MEMORY_LIMIT: { marker: '7773Mi', displayName: 'Memory limit', description: 'Memory limit of each member.', value: '1Gi', required: true },
    ...(v.existingSecret ? secretParameter() : passwordParameters()),
    POSTGRESQL_PARAMETERS: {
      marker: 'p0pgparameters0p',
      displayName: 'PostgreSQL parameters',
      description:
        'PostgreSQL parameters for every member as a JSON object, e.g. {"max_connections": 200}. Settings pgha manages (listen_addresses, port, primary_conninfo, ...) make the agent refuse to start, naming the setting.',
      value: '{}',
      required: true,
    },
    SYNCHRONOUS_MODE: {
      marker: 'p0syncmode0p',
      displayName: 'Synchronous mode',
      description:
        'true: a commit is acknowledged once a synchronous standby has it, and a failover loses none. Set when the cluster is created; change it later with pgha edit-config.',
      value: 'false',
      required: true,
    },
  };
  if (persistence === Persistence.PERSISTENT) {
    common.VOLUME_SIZE = {
      marker: '7771Mi',
      displayName: 'Volume size',
      description: "Size of each member's data volume, e.g. 10Gi.",
      value: '10Gi',
      required: true,
    };
  }
  return common;
}

/**
 * The member configuration takes the whole-value parameters as YAML flow values (`parameters: {...}`,
 * `synchronous_mode: true`); the agent checks them when it starts. The Pod template's digest of that file is dropped:
 * it would be the digest of the template's placeholders, not of the processed file.
 */
function parameterizeSettings(objects: Manifest[]): Manifest[] {
  for (const o of objects) {
    const data = o.data as Record<string, string> | undefined;
    if (o.kind === 'ConfigMap' && data?.[CONFIG_FILE_NAME]) {
      data[CONFIG_FILE_NAME] = data[CONFIG_FILE_NAME].replace(
        /^( *)parameters:\n\1  p0pgparameters0p: p0pgparameters0p$/m,
        '$1parameters: p0pgparameters0p',
      ).replace(/^( *)synchronous_mode: true\n\1synchronous_mode_strict: false\n\1synchronous_node_count: 1$/m, '$1synchronous_mode: p0syncmode0p');
    }
    const template = (o.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined)?.template;
    if (o.kind === 'StatefulSet' && template?.metadata?.annotations) {
      delete template.metadata.annotations[CONFIG_DIGEST_ANNOTATION];
      if (Object.keys(template.metadata.annotations).length === 0) delete template.metadata.annotations;
    }
  }
  return objects;
}

/** The Services' names: the cluster name and these suffixes. */
const REPLICAS_SUFFIX = '-replicas';

/** What `oc new-app` prints once the objects are created: where to connect, the password, the client label. */
function connectionMessage(v: TemplateVariant): string {
  const name = '${CLUSTER_NAME}';
  const secret = v.existingSecret ? '${CREDENTIALS_SECRET}' : `${name}-credentials`;
  return [
    `PostgreSQL cluster ${name}: \${REPLICAS} members, port ${POSTGRES_PORT}, superuser postgres.`,
    `  read-write: ${name} (always the current primary)`,
    `  read-only:  ${name}${REPLICAS_SUFFIX} (the running replicas)`,
    `From a Pod in this project labelled ${CLIENT_LABEL}=${name} (the NetworkPolicy ${name} admits PostgreSQL connections only from the members and from such Pods):`,
    `  psql "host=${name} port=${POSTGRES_PORT} user=postgres"`,
    `The passwords are in the Secret ${secret}; the superuser's:`,
    `  oc get secret ${secret} -o jsonpath='{.data.${SUPERUSER_PASSWORD_KEY}}' | base64 -d`,
    `${RESTAPI_PASSWORD_KEY} is the REST API's basic auth (user ${DEFAULT_RESTAPI_USERNAME}, port ${API_PORT}); pgha run in a member's Pod finds it by itself:`,
    `  oc exec ${name}-0 -- pgha list`,
    '',
  ].join('\n');
}

/** Replaces markers: a whole-number marker standing as a whole number becomes `${{P}}`; any other occurrence `${P}`. */
function substitute(value: unknown, params: Record<string, TemplateParameter>): unknown {
  if (typeof value === 'number') {
    const hit = Object.entries(params).find(([, p]) => p.integer && p.marker === value);
    return hit ? `\${{${hit[0]}}}` : value;
  }
  if (typeof value === 'string') {
    let out = value;
    for (const [name, p] of Object.entries(params)) out = out.replace(markerPattern(p.marker), `\${${name}}`);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, params));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [substitute(k, params) as string, substitute(v, params)]));
  return value;
}

/**
 * An OpenShift Template (`template.openshift.io/v1`) of a whole cluster, for `oc new-app -f` or `oc create -f … -n
 * openshift`. ConfigMaps store mode (Endpoints are not an option on OpenShift), no fixed user or fsGroup (the
 * restricted-v2 SCC assigns them), passwords generated by the template processor unless given, the REST API behind
 * basic auth and the NetworkPolicy, as the construct's defaults.
 */
export function openshiftTemplate(v: TemplateVariant): Record<string, unknown> {
  const { persistence } = v;
  const persistent = persistence === Persistence.PERSISTENT;
  const params = parameters(v);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T comes from where the marker goes: a placeholder for a prop of any type
  const marker = <T>(name: string) => params[name]!.marker as unknown as T;
  const objects = modelObjects({
    name: marker('CLUSTER_NAME'),
    // Every name derives from CLUSTER_NAME (a template parameter cannot default to another), so two instances with
    // different names never collide in one project.
    primaryServiceName: marker<string>('CLUSTER_NAME'),
    replicasServiceName: `${marker<string>('CLUSTER_NAME')}${REPLICAS_SUFFIX}`,
    image: marker('IMAGE'),
    replicas: marker('REPLICAS'),
    cpuRequest: Cpu.millis(Number.parseInt(marker<string>('CPU_REQUEST'), 10)),
    memoryRequest: Size.mebibytes(Number.parseInt(marker<string>('MEMORY_REQUEST'), 10)),
    memoryLimit: Size.mebibytes(Number.parseInt(marker<string>('MEMORY_LIMIT'), 10)),
    ...(persistent ? { storageSize: Size.mebibytes(Number.parseInt(marker<string>('VOLUME_SIZE'), 10)) } : {}),
    credentials: v.existingSecret
      ? ClusterCredentials.fromSecret(marker('CREDENTIALS_SECRET'))
      : ClusterCredentials.fromPasswords({
          superuser: marker('SUPERUSER_PASSWORD'),
          replication: marker('REPLICATION_PASSWORD'),
          restApi: marker('RESTAPI_PASSWORD'),
        }),
    storeMode: StoreMode.CONFIG_MAPS,
    platform: Platform.OPENSHIFT,
    persistence,
    postgresql: { parameters: { p0pgparameters0p: 'p0pgparameters0p' } },
    synchronousMode: true,
  });
  parameterizeSettings(objects);
  const name = templateName(v);
  const template = {
    apiVersion: 'template.openshift.io/v1',
    kind: 'Template',
    metadata: {
      name,
      annotations: {
        'openshift.io/display-name': `PostgreSQL HA (pgha, ${persistent ? 'persistent' : 'ephemeral'}${v.existingSecret ? ', your own Secret' : ''})`,
        description:
          (persistent
            ? 'A highly available PostgreSQL cluster run by the pgha agent, one PersistentVolumeClaim per member.'
            : 'A highly available PostgreSQL cluster run by the pgha agent, on emptyDir volumes: data is lost with the Pods. For tests and demos.') +
          (v.existingSecret ? ' The passwords come from a Secret you create beforehand (CREDENTIALS_SECRET).' : ''),
        'openshift.io/long-description': 'Generated by `npm run synth` from the PostgresCluster construct; do not edit by hand.',
        'openshift.io/provider-display-name': 'pgha',
        iconClass: 'icon-postgresql',
        tags: 'database,postgresql,pgha',
      },
    },
    labels: { template: name },
    message: connectionMessage(v),
    objects: substitute(objects, params),
    parameters: Object.entries(params).map(([pname, p]) => ({
      name: pname,
      displayName: p.displayName,
      description: p.description,
      ...(p.value !== undefined ? { value: p.value } : {}),
      ...(p.generate ? { generate: 'expression', from: p.generate } : {}),
      required: p.required ?? true,
    })),
  };
  return template;
}

/** The committed file text of `templates/<templateName>.yaml`. */
export function openshiftTemplateYaml(v: TemplateVariant): string {
  const text = `# Generated by \`npm run synth\` from constructs/ — do not edit; CI fails when this file differs from synth output.\n${stringify(openshiftTemplate(v), { lineWidth: 0 })}`;
  assertNoMarkers(text, parameters(v), `templates/${templateName(v)}.yaml`);
  return text;
}
