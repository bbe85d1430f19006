import type { SchemaInfo } from '../generated/qapi-types.gen.js';
import type { HandlersOf, QmpContext } from './context.js';
import { CommandNotFoundError, GenericError } from '../qmp/errors.js';
import type { QmpSession } from '../qmp/session.js';

/** Capabilities every chardevd QMP connection offers: its sockets can run commands out of band. */
export const OFFERED_CAPABILITIES = ['oob'] as const;

/** Session control and introspection (schema/control.json, schema/introspect.json). */
export const controlHandlers: HandlersOf<'qmp_capabilities' | 'query-version' | 'query-commands' | 'quit' | 'query-qmp-schema'> = {
  qmp_capabilities(args, context) {
    const session = qmpSession(context);
    if (session.negotiated) {
      // QEMU answers a second negotiation with this class and text (qmp_qmp_capabilities).
      throw new CommandNotFoundError('Capabilities negotiation is already complete, command ignored');
    }
    const enable = args.enable ?? [];
    const unavailable = enable.filter((c) => !(OFFERED_CAPABILITIES as readonly string[]).includes(c));
    if (unavailable.length > 0) throw new GenericError(`Capability ${unavailable.join(', ')} not available`);
    session.negotiate(enable);
    return {};
  },

  'query-version'(_args, { daemon }) {
    return daemon.version;
  },

  'query-commands'(_args, context) {
    const session = qmpSession(context);
    return context.dispatcher.commandNames.filter((name) => session.isAvailable(name)).map((name) => ({ name }));
  },

  quit(_args, { daemon }) {
    daemon.shutdown('host-qmp-quit');
    return {};
  },

  // The schema (a large table) is imported when first asked for, not at start-up.
  async 'query-qmp-schema'() {
    return (await import('../generated/qapi-introspect.gen.js')).qmpSchemaInfo as SchemaInfo[];
  },
};

/** The connection a command that acts on its own QMP session came from; a human monitor connection has none. */
function qmpSession({ session }: QmpContext): QmpSession<QmpContext> {
  if (session === undefined) throw new GenericError('this command needs a QMP connection; the human monitor has none');
  return session;
}
