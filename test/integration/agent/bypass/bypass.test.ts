// bypass_api_service against two real kube-apiservers in a network namespace this test creates (`unshare -n`;
// 192.0.2.1 and 192.0.2.2 on its loopback). The scenario runs in its own process inside the namespace; see
// scenario.ts. Killing the API server the leader uses must never cost it the lock, and a service account without
// the ClusterRole turns the feature off with one log line.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureBinaries } from '../../../control-plane/binaries';
import { agentBuild, compileEntry, NODE_PATH } from '../harness';

jest.setTimeout(300_000);
const ROOT = join(__dirname, '..', '..', '..', '..');

it("keeps the leader's lock when its API server dies, and switches itself off without the ClusterRole", () => {
  agentBuild();
  const out = compileEntry('test/integration/agent/bypass/tsconfig.scenario.json', [
    'agent/src',
    'test/integration/agent',
    'test/control-plane',
    'test/fixtures',
  ]);
  const scenario = join(out, 'test', 'integration', 'agent', 'bypass', 'scenario.js');
  const r = spawnSync('unshare', ['-n', '--', 'bash', join(__dirname, 'run-in-netns.sh'), 'setpriv', '--pdeathsig', 'KILL', '--', process.execPath, scenario], {
    env: { ...process.env, NODE_PATH, PGHA_REPO_ROOT: ROOT, PGHA_BINARIES: JSON.stringify(ensureBinaries({ build: false })) },
    encoding: 'utf8',
    timeout: 280_000,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('BYPASS-FACTS '));
  if (!line) throw new Error(`bypass scenario failed (exit ${r.status ?? r.signal}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`);
  const facts = JSON.parse(line.slice('BYPASS-FACTS '.length)) as Record<string, unknown>;
  expect(facts.endpointIps).toEqual(['192.0.2.1', '192.0.2.2']);
  // The leader used one API server directly, and that one was killed.
  expect(facts.killed).toEqual(facts.serverBefore);
  expect(facts.killed).toMatch(/^https:\/\/192\.0\.2\.[12]:\d+$/);
  // It moved to the other server and never lost the lock.
  expect(facts.holdersAfterKill).toEqual([facts.holder]);
  expect(facts.transitionsAfter).toBe(facts.transitionsBefore);
  expect(facts.leaderSteppedDown).toBe(false);
  expect(facts.serverAfter).not.toBe(facts.killed);
  expect(facts.endpointIpsAfter).toHaveLength(1);
  // Without the ClusterRole: exactly one log line, and the member still works through the configured server.
  expect(facts.lonerDisabledLines).toBe(1);
  expect(facts.lonerFollows).toBe(true);
  expect(facts.errors).toEqual([]);
});
