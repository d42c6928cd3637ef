import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository root, from the sources (ts-jest). */
export const repoRoot = join(__dirname, '..', '..');

/**
 * What a fresh clone of the working tree would hold: every file git tracks or would add (as it is on disk now, so
 * uncommitted edits are what is tested), none of what it ignores (no build/, dist/), and the installed node_modules
 * linked in place of `npm ci`. The caller removes `dir` with `remove()`.
 */
export function freshCopy(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate'], { cwd: repoRoot, encoding: 'utf8' });
    // A tracked file deleted in the working tree is not in a clone of what would be committed.
    for (const path of listed.split('\0').filter((p) => p && existsSync(join(repoRoot, p)))) {
      cpSync(join(repoRoot, path), join(dir, path), { recursive: false });
    }
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  } catch (err) {
    remove();
    throw err;
  }
  return { dir, remove };
}
