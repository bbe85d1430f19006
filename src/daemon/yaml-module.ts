import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);
let yamlModule: typeof Yaml | undefined;

/**
 * The yaml package, loaded on first use (a config file read, a
 * configuration written): a daemon started without either does not pay
 * for it, which is a sixth of its start-up.
 */
export const yaml = (): typeof Yaml => (yamlModule ??= require('yaml') as typeof Yaml);
