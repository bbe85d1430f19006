import { existsSync } from 'node:fs';

let root: URL | undefined;

/**
 * A file of the installed package, by its path from the package's root
 * (package.json, the native addon, the web page's assets). The root is
 * the nearest directory above this module that holds package.json, so the
 * answer is the same whether this module runs compiled (dist/src/base/)
 * or bundled into a program (dist/bin/), which sit at different depths.
 */
export function packageFile(path: string): URL {
  if (root === undefined) {
    let dir = new URL('./', import.meta.url);
    while (!existsSync(new URL('package.json', dir))) {
      const parent = new URL('../', dir);
      if (parent.href === dir.href) throw new Error(`no package.json above ${import.meta.url}`);
      dir = parent;
    }
    root = dir;
  }
  return new URL(path, root);
}
