// Module hooks for a child process: writes every module URL Node loads to
// stderr as `loaded URL`, so a test can tell what an import pulled in.
import { writeSync } from 'node:fs';

export async function load(url, context, nextLoad) {
  writeSync(2, `loaded ${url}\n`);
  return nextLoad(url, context);
}
