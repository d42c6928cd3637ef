// The control-plane build script must fail with one clear message, and build nothing, when it cannot work.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = join(__dirname, '..', '..', 'control-plane', 'build.sh');

describe('test/control-plane/build.sh', () => {
  it('fails naming the missing Go toolchain when binaries must be built', () => {
    const cache = mkdtempSync(join(tmpdir(), 'pgha-empty-cache-'));
    const r = spawnSync('bash', [script], { encoding: 'utf8', env: { ...process.env, PGHA_CACHE_DIR: cache, PGHA_GO: '/nonexistent/go' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('the Go toolchain (/nonexistent/go) was not found');
    expect(readdirSync(cache)).toEqual([]);
    rmSync(cache, { recursive: true, force: true });
  });

  it('prints version-keyed cache directories without building', () => {
    const r = spawnSync('bash', [script, '--print'], { encoding: 'utf8', env: { ...process.env, PGHA_CACHE_DIR: '/c' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^K8S_BIN_DIR=\/c\/k8s-v1\.\d+\.\d+-[0-9a-f]{12}\/bin$/m);
    expect(r.stdout).toMatch(/^ETCD_BIN_DIR=\/c\/etcd-v3\.\d+\.\d+-[0-9a-f]{12}\/bin$/m);
  });
});
