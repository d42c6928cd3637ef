// Patroni's callbacks (postgresql.callbacks) with real agents and PostgreSQL: a script records each call's
// arguments per member through bootstrap, a switchover, a parameter reload and a restart.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '../../fixtures/cluster';
import { CALLBACK_ACTIONS } from '../../../agent/src/config/callback-actions';
import type { HaCluster } from './ha-harness';
import { haSuite } from '../suite';

jest.setTimeout(300_000);
let cluster: HaCluster;
let script: string;
const suite = haSuite(
  'ha-cb',
  {
    scope: 'cb',
    size: 2,
    ttl: 10,
    // Each member's script gets the member's name first, then Patroni's three arguments.
    extraFor: (name) => ({ postgresql: { callbacks: Object.fromEntries(CALLBACK_ACTIONS.map((a) => [a, `${script} ${name}`])) } }),
  },
  async (c) => {
    cluster = c;
    script = writeScript();
    c.start('cb-0');
    await c.writablePrimary(120_000);
    c.start('cb-1');
    await c.streaming('cb-1');
  },
);

/** The callback: records its arguments in `<member>.calls` beside itself. */
function writeScript(): string {
  const path = join(suite.dir, 'callback.sh');
  writeFileSync(path, `#!/bin/sh\nmember=$1; shift\necho "$*" >> "$(dirname "$0")/$member.calls"\n`, { mode: 0o755 });
  return path;
}

/** The calls member `name`'s script recorded, as "<action> <role> <scope>". */
function calls(name: string): string[] {
  const file = join(suite.dir, `${name}.calls`);
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
}

async function recorded(name: string, expected: string[]): Promise<void> {
  try {
    await eventually(`${name}'s callbacks`, async () => (JSON.stringify(calls(name)) === JSON.stringify(expected) ? true : undefined), 30_000);
  } catch {
    expect(calls(name)).toEqual(expected);
  }
}

it('bootstrap: the leader reports on_start as primary once it leads, the clone on_start as replica', async () => {
  await recorded('cb-0', ['on_start primary cb']);
  await recorded('cb-1', ['on_start replica cb']);
});

it('a switchover: the old primary stops and comes back as a replica (on_stop, on_role_change); the new one is promoted', async () => {
  const res = await cluster.api('cb-0', 'POST', '/switchover', { leader: 'cb-0', candidate: 'cb-1' });
  expect(res.status).toBe(200);
  await cluster.streaming('cb-0', 90_000);
  await recorded('cb-0', ['on_start primary cb', 'on_stop primary cb', 'on_role_change replica cb']);
  await recorded('cb-1', ['on_start replica cb', 'on_role_change primary cb']);
});

it('a reload after a parameter change, and a restart, each reported on the member it happened to', async () => {
  expect((await cluster.api('cb-1', 'PATCH', '/config', { postgresql: { parameters: { work_mem: '8MB' } } })).status).toBe(200);
  await recorded('cb-0', ['on_start primary cb', 'on_stop primary cb', 'on_role_change replica cb', 'on_reload replica cb']);
  await recorded('cb-1', ['on_start replica cb', 'on_role_change primary cb', 'on_reload primary cb']);
  expect((await cluster.api('cb-0', 'POST', '/restart', {})).status).toBe(200);
  await recorded('cb-0', ['on_start primary cb', 'on_stop primary cb', 'on_role_change replica cb', 'on_reload replica cb', 'on_restart replica cb']);
  expect(calls('cb-1')).toHaveLength(3);
});
