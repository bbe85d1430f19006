import { fileURLToPath } from 'node:url';

/**
 * The repository root, for tests that read fixtures. Compiled tests live at
 * dist/test/<area>/<module>/x.test.js and this helper at
 * dist/test/support/paths.js: the root is three levels above this file.
 */
export const repoRoot: string = fileURLToPath(new URL('../../../', import.meta.url));
