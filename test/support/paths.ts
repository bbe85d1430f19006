import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root, for tests that read fixtures. Compiled tests live at
 * dist/test/<area>/<module>/x.test.js and this helper at
 * dist/test/support/paths.js: the root is three levels above this file.
 */
export const repoRoot: string = fileURLToPath(new URL('../../../', import.meta.url));

/** The programs as package.json's "bin" installs them: the bundles the build writes to dist/bin. */
export const CHARDEVD: string = join(repoRoot, 'dist/bin/chardevd.cjs');
export const CHARDEVCTL: string = join(repoRoot, 'dist/bin/chardevctl.js');
export const CHARDEVD_DEMUX: string = join(repoRoot, 'dist/bin/chardevd-demux.js');
