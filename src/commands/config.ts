import type { HandlersOf } from './context.js';

/** The running configuration (schema/config.json). */
export const configHandlers: HandlersOf<'query-config'> = {
  'query-config'(_args, { daemon }) {
    return daemon.config();
  },
};
