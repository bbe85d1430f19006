import type { QmpContext } from '../../commands/context.js';
import { type QmpCommands, qmpCommandSpecs } from '../../generated/qapi-commands.gen.js';
import type { InputValidator } from '../../qapi-runtime/index.js';
import type { QmpError } from '../../qmp/errors.js';
import type { JsonObject } from '../../qobject/json-value.js';
import { HmpCommandError, type HmpQmpCommand, type QmpCall } from './commands.js';

/** The handlers HMP calls, each typed by its command's arguments; the daemon's full table is one. */
export type HmpQmpHandlers = {
  [K in HmpQmpCommand]: (args: QmpCommands[K]['arguments'], context: QmpContext) => QmpCommands[K]['returns'] | Promise<QmpCommands[K]['returns']>;
};

/**
 * Runs QMP commands for the human monitor in-process, with the handlers
 * QMP clients reach through the dispatcher. The arguments go through the
 * same input checks first: HMP builds some from text (chardev-add's
 * backend), and what the option parser lets through but the schema
 * refuses fails with the text a QMP client gets. Every failure becomes an
 * HmpCommandError with the `desc` the dispatcher sends.
 */
export class QmpCaller {
  /** Each command's argument type in the type table; undefined for one without arguments. */
  readonly #argTypes = new Map<string, string | undefined>(qmpCommandSpecs.map((spec) => [spec.name, spec.argType]));

  constructor(
    private readonly handlers: HmpQmpHandlers,
    private readonly validator: InputValidator,
    /** The dispatcher's errorFor: what the failure is answered with over QMP (a bug is reported there). */
    private readonly errorFor: (command: string, error: unknown) => QmpError,
  ) {}

  /** The QmpCall of commands that run with `context`. */
  callerFor(context: QmpContext): QmpCall {
    return (command, args) => this.call(command, args, context);
  }

  async call<K extends HmpQmpCommand>(command: K, args: QmpCommands[K]['arguments'], context: QmpContext): Promise<QmpCommands[K]['returns']> {
    try {
      return await this.handlers[command](this.#checked(command, args), context);
    } catch (error: unknown) {
      throw new HmpCommandError(this.errorFor(command, error).desc);
    }
  }

  /** The arguments as the input visitor returns them (members in schema order, numbers as numbers), or its QapiInputError. */
  #checked<K extends HmpQmpCommand>(command: K, args: QmpCommands[K]['arguments']): QmpCommands[K]['arguments'] {
    const argType = this.#argTypes.get(command);
    if (argType === undefined) return args;
    return this.validator.validateArguments(argType, qmpInput(args)) as QmpCommands[K]['arguments'];
  }
}

/**
 * Typed arguments as the QMP input the visitor reads. Generated argument
 * types hold only JSON's kinds (an optional member may be undefined, which
 * the visitor takes as absent), so this is what a QMP client would send.
 */
function qmpInput(args: object | undefined): JsonObject | undefined {
  return args as JsonObject | undefined;
}
