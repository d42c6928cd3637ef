import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files of the throwaway PKI one control plane uses. All paths are inside the control plane's directory. */
export interface ControlPlanePki {
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  /** Service-account token signing key pair. */
  readonly saKey: string;
  readonly saPub: string;
  /** The apiserver's client certificate towards kubelets (logs, exec), in `system:masters`. */
  readonly kubeletClientCert: string;
  readonly kubeletClientKey: string;
}

/** The first address of the Service range: the `kubernetes` Service's ClusterIP, which the serving cert must name. */
export const KUBERNETES_SERVICE_IP = '203.0.113.1';

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(err)}`, { cause: err });
  }
}

/** An EC key `<name>.key` and a certificate `<name>.crt` for `subject`, signed by the CA with the extensions file. */
function issue(dir: string, name: string, subject: string, extfile: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  const ca = ['-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30'];
  openssl(['x509', '-req', '-in', `${name}.csr`, ...ca, '-extfile', extfile, '-out', `${name}.crt`], dir);
}

/**
 * Makes a CA, a serving certificate for every given IP (plus the in-cluster names and address of the `kubernetes`
 * Service), the apiserver's kubelet client certificate and a service-account key pair, using the openssl CLI. EC keys keep this well under a second.
 */
export function makePki(dir: string, ips: readonly string[]): ControlPlanePki {
  const p = (f: string) => join(dir, f);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=pgha-test-ca', '-days', '30', '-out', 'ca.crt'], dir);
  const sans = [
    ...ips.map((ip) => `IP:${ip}`),
    `IP:${KUBERNETES_SERVICE_IP}`,
    'IP:127.0.0.1',
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
  writeFileSync(p('serving.ext'), `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
  issue(dir, 'serving', '/CN=kube-apiserver', 'serving.ext');
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
  issue(dir, 'kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', 'client.ext');
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  return {
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    servingCert: p('serving.crt'),
    servingKey: p('serving.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
    kubeletClientCert: p('kubelet-client.crt'),
    kubeletClientKey: p('kubelet-client.key'),
  };
}
