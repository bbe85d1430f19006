import type { HandlersOf } from './context.js';

/** The web console's commands (schema/web.json). */
export const webHandlers: HandlersOf<'web-token-add'> = {
  'web-token-add'({ expiry }, { daemon }) {
    return daemon.webTokens.add(expiry);
  },
};
