/**
 * `edit-config` without flags: the configuration as YAML in $VISUAL/$EDITOR, read back when the editor exits.
 * Returns undefined when no editor is set (scripts use --set/--apply) or the edit could not be read.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { formatConfig } from './format';
import { UsageError } from './usage-error';

export function editInteractively(config: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  const editor = env.VISUAL || env.EDITOR;
  if (!editor) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'pgha-edit-'));
  const file = join(dir, 'config.yaml');
  try {
    writeFileSync(file, `${formatConfig(config)}\n`, { mode: 0o600 });
    const r = spawnSync('sh', ['-c', `${editor} "$1"`, 'pgha-edit', file], { stdio: 'inherit', env });
    if (r.status !== 0) throw new UsageError(`the editor (${editor}) exited with ${r.status ?? r.signal}; nothing changed`);
    const doc = parseYaml(readFileSync(file, 'utf8')) as unknown;
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError('the edited configuration must be a YAML mapping; nothing changed');
    return doc as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
