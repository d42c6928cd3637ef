import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../fixtures/cluster';
import { PostgresTestCluster, query, type TestMember } from '../../fixtures/postgres';

/**
 * Replication over TLS with Patroni's `postgresql.authentication.replication.ssl*` options, against real
 * PostgreSQL 15: a replica told `sslmode=verify-full` and the cluster's CA clones and streams over TLS; one given
 * another CA cannot clone at all (the options reach pg_basebackup, not only primary_conninfo).
 */
jest.setTimeout(120_000);

/** A CA and a server certificate for 127.0.0.1 signed by it, made with openssl in `dir`. */
function makeCa(dir: string, name: string): { ca: string; caKey: string } {
  const ca = join(dir, `${name}.crt`);
  const caKey = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', caKey, '-out', ca], {
    stdio: 'ignore',
  });
  return { ca, caKey };
}

function serverCert(dir: string, signer: { ca: string; caKey: string }): { cert: string; key: string } {
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.crt');
  const ext = join(dir, 'server.ext');
  execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', csr], { stdio: 'ignore' });
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > "$1"`, 'sh', ext]);
  execFileSync(
    'openssl',
    ['x509', '-req', '-in', csr, '-CA', signer.ca, '-CAkey', signer.caKey, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', cert],
    {
      stdio: 'ignore',
    },
  );
  return { cert, key };
}

describe('replication over TLS', () => {
  let cluster: PostgresTestCluster;
  let primary: TestMember;
  let certs: string;
  let clusterCa: string;
  let otherCa: string;

  beforeAll(async () => {
    cluster = await PostgresTestCluster.create();
    certs = mkdtempSync(join(tmpdir(), 'pgha-tls-'));
    const signer = makeCa(certs, 'cluster-ca');
    clusterCa = signer.ca;
    otherCa = makeCa(certs, 'other-ca').ca;
    const { cert, key } = serverCert(certs, signer);
    // PostgreSQL reads its key only when the file is its own and private.
    for (const f of readdirSync(certs)) {
      if (cluster.runAs) chownSync(join(certs, f), cluster.runAs.uid, cluster.runAs.gid);
      chmodSync(join(certs, f), 0o600);
    }
    if (cluster.runAs) chownSync(certs, cluster.runAs.uid, cluster.runAs.gid);
    primary = await cluster.member('tls-a', { parameters: { ssl: 'on', ssl_cert_file: cert, ssl_key_file: key } });
    await primary.pg.bootstrap();
  });

  afterAll(async () => {
    await cluster?.stop();
    if (certs) rmSync(certs, { recursive: true, force: true });
  });

  test('a replica with verify-full and the cluster CA clones and streams over TLS', async () => {
    const replica = await cluster.member('tls-b', { replicationTls: { sslmode: 'verify-full', sslrootcert: clusterCa } });
    await primary.pg.createSlot(replica.pg.slotName);
    await replica.pg.createReplica(primary.upstream, {});
    await replica.pg.start({});
    const row = await eventually('the replica streaming', async () => {
      const rows = await query<{ ssl: boolean; state: string }>(
        primary,
        "SELECT s.ssl, r.state FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE r.application_name = 'tls-b'",
      );
      return rows[0]?.state === 'streaming' ? rows[0] : undefined;
    });
    expect(row.ssl).toBe(true);
    const [conninfo] = await query<{ c: string }>(replica, "SELECT current_setting('primary_conninfo') AS c");
    expect(conninfo!.c).toContain('sslmode=verify-full');
    expect(conninfo!.c).toContain(`sslrootcert=${clusterCa}`);
  });

  test('a replica that trusts another CA cannot clone: pg_basebackup refuses the certificate', async () => {
    const stranger = await cluster.member('tls-c', { replicationTls: { sslmode: 'verify-full', sslrootcert: otherCa } });
    await expect(stranger.pg.createReplica(primary.upstream, {})).rejects.toMatchObject({
      message: 'pg_basebackup failed',
      details: { stderr: expect.stringMatching(/certificate verify failed/) },
    });
  });
});
