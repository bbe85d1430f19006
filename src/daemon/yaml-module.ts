import type * as Yaml from 'yaml';
import { packageRequire } from '../base/package-require.js';

let yamlModule: typeof Yaml | undefined;

/**
 * The yaml package, loaded on first use (a config file read, a
 * configuration written): a daemon started without either does not pay
 * for it, which is a sixth of its start-up.
 */
export const yaml = (): typeof Yaml => (yamlModule ??= packageRequire()('yaml') as typeof Yaml);
