// A cluster's life on the real node, as its operators change it: a rolling update of the StatefulSet with a writer
// running, scaling 3 -> 5 -> 3, and the Helm release upgraded, uninstalled and installed again onto its kept
// volumes.
import { eventually } from '../fixtures/cluster';
import { Writer } from '../fixtures/writer';
import { deployHelm, helm, helmChart, helmDeployment } from './support/deploy';
import { E2eSession, report } from './support/e2e-cluster';
import { FAST_HELM_VALUES, fastCluster } from './support/faults';
import { sleep } from '../../agent/src/clock';

const session = new E2eSession();
afterEach(() => session.cleanup());
afterAll(() => session.close());

it('a rolling update (a changed environment variable) updates every member and moves the primary at most once', async () => {
  const c = await fastCluster(session, 'e2e-roll');
  const before = await c.healthy();
  const ordinal = Number(before.split('-').pop());
  const writer = new Writer(await c.target(), { table: 'roll_writes' });
  await writer.prepare();
  writer.start();
  const holders: string[] = [before];
  let rolling = true;
  const watch = (async () => {
    while (rolling) {
      const h = await c.holder().catch(() => undefined);
      if (h && holders.at(-1) !== h) holders.push(h);
      await sleep(100);
    }
  })();
  const t0 = performance.now();
  await c.cluster.kubectl(['set', 'env', 'statefulset/db', '-n', c.namespace, 'PGHA_E2E_ROLLOUT=1']);
  await c.cluster.kubectl(['rollout', 'status', 'statefulset/db', '-n', c.namespace, '--timeout=600s'], { timeoutMs: 620_000 });
  await c.healthy();
  rolling = false;
  await watch;
  await writer.stop();
  const sts = JSON.parse(await c.cluster.kubectl(['get', 'statefulset', 'db', '-n', c.namespace, '-o', 'json'])) as {
    status: { updatedReplicas: number; currentRevision: string; updateRevision: string };
  };
  expect(sts.status.updatedReplicas).toBe(3);
  expect(sts.status.currentRevision).toBe(sts.status.updateRevision);
  const changes = holders.length - 1;
  report('rolling-update', { outageMs: Math.round(writer.outageAfter(t0)), changesOfPrimary: changes, primaryBefore: before, holders });
  // The controller replaces the highest ordinal first. A primary there has no updated member to move to, and moves
  // again when its new home is replaced: a plain StatefulSet cannot do better. Anywhere else it moves once, to a
  // member already updated, and stays there.
  expect(changes).toBeLessThanOrEqual(ordinal === 2 ? 2 : 1);
  const after = await c.holder();
  expect((await c.pods()).every((p) => p.ready)).toBe(true);
  expect(after).toBeDefined();
}, 700_000);

it('scales 3 -> 5 -> 3: new members clone and stream; scaled-away volumes are kept', async () => {
  const c = await fastCluster(session, 'e2e-scale');
  await c.healthy();
  await c.cluster.kubectl(['scale', 'statefulset/db', '-n', c.namespace, '--replicas=5']);
  await c.healthy(300_000, 5);
  await c.cluster.kubectl(['scale', 'statefulset/db', '-n', c.namespace, '--replicas=3']);
  await c.healthy(300_000, 3);
  // persistentVolumeClaimRetentionPolicy whenScaled: Retain.
  const pvcs = JSON.parse(await c.cluster.kubectl(['get', 'pvc', '-n', c.namespace, '-o', 'json'])) as { items: { metadata: { name: string } }[] };
  expect(pvcs.items.map((p) => p.metadata.name).sort()).toEqual(['data-db-0', 'data-db-1', 'data-db-2', 'data-db-3', 'data-db-4']);
  // The leader drops the replication slots of members that are gone.
  await eventually(
    'the slots of the scaled-away members dropped',
    async () => {
      const slots = await c.sql<{ slot_name: string }>(await c.target(), 'SELECT slot_name FROM pg_replication_slots ORDER BY 1');
      return slots.length === 2 ? slots : undefined;
    },
    120_000,
    1000,
  );
}, 700_000);

it("helm upgrade keeps the passwords (the REST API's too); uninstall keeps the volumes and Secret; a reinstall comes back with the data", async () => {
  const ns = await session.namespace('e2e-helm-life');
  const values = {
    ...FAST_HELM_VALUES,
  };
  const first = session.track(await deployHelm(session.cluster, ns, 'life', values));
  expect(first.d.restApiAuth).toEqual({ username: 'pgha', password: expect.stringMatching(/^[a-zA-Z0-9]{24}$/) });
  await first.healthy();
  await first.sql(await first.target(), 'CREATE TABLE kept (v text)');
  await first.sql(await first.target(), "INSERT INTO kept VALUES ('written before the upgrade')");

  helm(session.cluster, [
    'upgrade',
    'life',
    helmChart(),
    '-n',
    ns,
    ...Object.entries({ ...values, 'resources.limits.memory': '768Mi' }).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
  ]);
  const upgraded = session.track(await helmDeployment(session.cluster, ns, 'life', values));
  expect(upgraded.d.superuserPassword).toBe(first.d.superuserPassword);
  expect(upgraded.d.restApiAuth).toEqual(first.d.restApiAuth);
  const holder = await upgraded.healthy(300_000);
  // The upgraded members took the kept REST API password: a change with it is accepted.
  expect((await upgraded.api(holder, 'POST', '/reload')).status).toBe(202);
  expect(await upgraded.sql(await upgraded.target(), 'SELECT v FROM kept')).toEqual([{ v: 'written before the upgrade' }]);

  helm(session.cluster, ['uninstall', 'life', '-n', ns, '--wait']);
  await eventually('the members gone', async () => ((await upgraded.pods()).length === 0 ? true : undefined), 180_000, 500);
  const kept = JSON.parse(await session.cluster.kubectl(['get', 'pvc,secret', '-n', ns, '-o', 'json'])) as {
    items: { kind: string; metadata: { name: string } }[];
  };
  expect(kept.items.filter((o) => o.kind === 'PersistentVolumeClaim')).toHaveLength(3);
  expect(kept.items.some((o) => o.kind === 'Secret' && o.metadata.name === 'life-credentials')).toBe(true);

  const again = session.track(await deployHelm(session.cluster, ns, 'life', values));
  expect(again.d.superuserPassword).toBe(first.d.superuserPassword);
  expect(again.d.restApiAuth).toEqual(first.d.restApiAuth);
  await again.healthy(300_000);
  expect(await again.sql(await again.target(), 'SELECT v FROM kept')).toEqual([{ v: 'written before the upgrade' }]);
}, 900_000);
