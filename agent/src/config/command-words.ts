/**
 * Splits a command line into words the way a POSIX shell does for a simple command, without running a shell:
 * whitespace separates words; single quotes keep everything literally; double quotes keep everything but `\"`,
 * `\\`, `\$` and `` \` ``; a backslash outside quotes keeps the next character. No expansion of any kind.
 * Throws a RangeError naming the problem for an unterminated quote or a trailing backslash.
 */
export function commandWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new RangeError(`unterminated single quote at character ${i + 1}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1]!)) j++;
        word += line[j]!;
      }
      if (j >= line.length) throw new RangeError(`unterminated double quote at character ${i + 1}`);
      inWord = true;
      i = j;
    } else if (ch === '\\') {
      if (i + 1 >= line.length) throw new RangeError('trailing backslash');
      word += line[++i]!;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
