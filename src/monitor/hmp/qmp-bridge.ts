import type { QmpContext } from '../../commands/context.js';
import type { DispatchMode, QmpDispatcher } from '../../qmp/dispatch.js';
import { GenericError } from '../../qmp/errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../qobject/json-value.js';
import type { QmpSession } from '../../qmp/session.js';
import { HmpCommandError } from './commands.js';

/** HMP may run every command, with no capability negotiation and no out-of-band execution. */
const HMP_DISPATCH_MODE: DispatchMode = { oobEnabled: false, isAvailable: () => true };

/**
 * Runs a QMP command for a human monitor command through the QMP
 * dispatcher: the arguments are validated and the handler called exactly
 * as for a QMP client. Resolves with the `return` value; a QMP error
 * rejects with HmpCommandError carrying its `desc`.
 */
export async function runQmpForHmp(
  dispatcher: QmpDispatcher<QmpContext>,
  context: QmpContext,
  command: string,
  args?: JsonObject,
): Promise<JsonValue> {
  const request: JsonObject = { execute: command };
  if (args !== undefined) request['arguments'] = args;
  const response = await dispatcher.dispatch(request, HMP_DISPATCH_MODE, context);
  const error = response['error'];
  if (isJsonObject(error)) throw new HmpCommandError(String(error['desc']));
  return response['return'] ?? {};
}

/**
 * The `session` of the QMP context a monitor connection's commands run
 * with. A human monitor has no QMP session (no capabilities, no
 * negotiation), and none of the commands HMP runs looks at it; should one
 * ever do, it fails with a clear error instead of acting on a wrong
 * session.
 */
export const NO_QMP_SESSION = new Proxy(
  {},
  {
    get(): never {
      throw new GenericError('this command needs a QMP connection; the human monitor has none');
    },
  },
) as unknown as QmpSession<QmpContext>;
