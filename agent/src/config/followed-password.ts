import { readFileSync } from 'node:fs';
import { type Credentials, rereadPasswordFile } from './agent-config';

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
    const read = rereadPasswordFile(file, readFile);
    if ('password' in read) {
      last = read.password;
      reported = false;
      return last;
    }
    if (!reported) onUnusable(file, read.why);
    reported = true;
    return last;
  };
}
