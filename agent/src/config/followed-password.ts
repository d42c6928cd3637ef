import { readFileSync } from 'node:fs';
import { type Credentials, readPasswordFile } from './agent-config';

/**
 * The password of `creds`, read again from its `password_file` at each call, so a rotated Secret takes effect
 * without a restart (the REST API's credentials: read per unsafe request, which is rare). An unreadable or empty file
 * keeps the last good password and is reported through `onUnusable`, once until the file is usable again.
 * Credentials without a file give their password.
 */
export function followedPassword(
  creds: Credentials,
  onUnusable: (file: string, why: string) => void,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): () => string {
  let last = creds.password;
  let reported = false;
  const file = creds.passwordFile;
  if (file === undefined) return () => last;
  return () => {
    let why: string;
    try {
      const text = readPasswordFile(file, readFile);
      if (text !== '') {
        last = text;
        reported = false;
        return last;
      }
      why = 'empty';
    } catch (err) {
      why = `unreadable (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    }
    if (!reported) onUnusable(file, why);
    reported = true;
    return last;
  };
}
