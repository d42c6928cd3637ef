import { join, resolve, sep } from 'node:path';

/** The repository root, from either the sources (ts-jest) or the compiled output under build/. */
export const REPO_ROOT = (() => {
  const parts = resolve(__dirname).split(sep);
  const i = parts.lastIndexOf('build');
  return i >= 0 && parts[i + 1] === 'test' ? parts.slice(0, i).join(sep) : resolve(__dirname, '..', '..');
})();

/** A compiled script of the project (helper processes always run from build/, which the test setup compiles). */
export function compiledScript(relativeTs: string): string {
  return join(REPO_ROOT, 'build', relativeTs.replace(/\.ts$/, '.js'));
}
