import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { version } from '../../../package.json';
import { DEFAULT_IMAGE, PGHA_VERSION } from '../../../constructs/image';

describe('DEFAULT_IMAGE', () => {
  it('is the image `npm run image` builds, so a default deployment runs what the project ships', () => {
    const r = spawnSync('bash', [join(__dirname, '..', '..', '..', 'agent', 'image', 'build.sh'), '--print-image'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(DEFAULT_IMAGE);
  });
});

describe('PGHA_VERSION', () => {
  it("is package.json's version (the chart's version, the Pods' app.kubernetes.io/version, the image tag)", () => {
    expect(PGHA_VERSION).toBe(version);
  });
});
