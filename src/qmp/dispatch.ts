import type { QmpCommandHandlers } from '../generated/qapi-commands.gen.js';
import { type CommandSpec, firstUnvisitedMember, type InputValidator, QapiInputError } from '../qapi-runtime/index.js';
import { qdictOrder } from '../qobject/qdict-order.js';
import type { CommandObserver } from './command-tally.js';
import { CommandNotFoundError, GenericError, QmpError } from './errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../qobject/json-value.js';

/** What decides, per connection, how a request is dispatched. */
export interface DispatchMode {
  /** The `oob` capability is enabled: `exec-oob` is a valid member. */
  readonly oobEnabled: boolean;
  /** Commands of the connection's current command table (only qmp_capabilities before negotiation). */
  readonly isAvailable: (command: string) => boolean;
  /** False while capabilities negotiation is pending; absent where there is none (the human monitor). */
  readonly negotiated?: boolean;
}

/**
 * The QMP error a handler's domain error is answered with, or undefined
 * for one it does not know. The dispatcher knows no domain: the daemon
 * injects this (commands/qmp-error-table.ts).
 */
export type QmpErrorConverter = (error: unknown) => QmpError | undefined;

/** A handler threw something that is no error raised on purpose: a bug, reported and answered as GenericError. */
export type InternalErrorReporter = (command: string, error: unknown) => void;

export interface QmpDispatcherOptions<Context> {
  readonly specs: readonly CommandSpec[];
  readonly handlers: QmpCommandHandlers<Context>;
  readonly validator: InputValidator;
  readonly toQmpError: QmpErrorConverter;
  readonly reportInternalError: InternalErrorReporter;
  /** Told of every request answered (the daemon's metrics). */
  readonly observer?: CommandObserver;
}

/** monitor_qmp_dispatch()'s desc for a command not found while capabilities negotiation is pending. */
const NEGOTIATION_PENDING = "Expecting capabilities negotiation with 'qmp_capabilities'";

/**
 * Turns one parsed request into its response, following QEMU 7.2's
 * qmp_dispatch() step by step: the envelope check walks members in QDict
 * order, then command lookup, OOB permission, argument validation (before
 * the handler runs, so a bad request has no side effect), the handler, and
 * the `id` echo on everything but non-object input.
 */
export class QmpDispatcher<Context> {
  readonly #specs = new Map<string, CommandSpec>();

  constructor(private readonly options: QmpDispatcherOptions<Context>) {
    for (const spec of options.specs) this.#specs.set(spec.name, spec);
  }

  /** Names of every command, in schema order. */
  get commandNames(): string[] {
    return [...this.#specs.keys()];
  }

  /** Whether a parsed request is to run out of band (qmp_is_oob: `exec-oob` and no `execute`). */
  static isOob(request: JsonValue): boolean {
    return isJsonObject(request) && Object.hasOwn(request, 'exec-oob') && !Object.hasOwn(request, 'execute');
  }

  dispatch(request: JsonValue, mode: DispatchMode, context: Context): JsonObject | Promise<JsonObject> {
    if (!isJsonObject(request)) return genericErrorResponse('QMP input must be a JSON object');
    const id = Object.hasOwn(request, 'id') ? request['id'] : undefined;
    let command: string;
    let args: JsonObject | undefined;
    let spec: CommandSpec;
    try {
      ({ command, args } = checkEnvelope(request, mode.oobEnabled));
      const found = mode.isAvailable(command) ? this.#specs.get(command) : undefined;
      // monitor_qmp_dispatch() gives every CommandNotFound answered while negotiation is pending a more helpful desc;
      // this is the only one that can arise then (qmp_capabilities raises it only once negotiation is complete).
      if (found === undefined) {
        throw new CommandNotFoundError(mode.negotiated === false ? NEGOTIATION_PENDING : `The command ${command} has not been found`);
      }
      spec = found;
      if (!Object.hasOwn(request, 'execute') && !spec.allowOob) throw new GenericError(`The command ${command} does not support OOB`);
    } catch (error: unknown) {
      const refused = asQmpError(error);
      this.options.observer?.answered(undefined, refused.errorClass);
      return errorResponse(refused, id);
    }
    return this.#run(spec, args, id, context);
  }

  #run(spec: CommandSpec, args: JsonObject | undefined, id: JsonValue | undefined, context: Context): JsonObject | Promise<JsonObject> {
    let result: unknown;
    try {
      const { validator, handlers } = this.options;
      const validated = spec.gen === false ? (args ?? {}) : spec.argType === undefined ? checkNoArguments(args) : validator.validateArguments(spec.argType, args);
      const handler = handlers[spec.name as keyof QmpCommandHandlers<Context>] as (args: unknown, context: Context) => unknown;
      result = handler(validated, context);
    } catch (error: unknown) {
      return this.#failed(spec.name, error, id);
    }
    if (result instanceof Promise) {
      return result.then(
        (value: unknown) => this.#returned(spec.name, value, id),
        (error: unknown) => this.#failed(spec.name, error, id),
      );
    }
    return this.#returned(spec.name, result, id);
  }

  #returned(command: string, value: unknown, id: JsonValue | undefined): JsonObject {
    this.options.observer?.answered(command, 'ok');
    return returnResponse(value, id);
  }

  #failed(command: string, error: unknown, id: JsonValue | undefined): JsonObject {
    const qmpError = this.errorFor(command, error);
    this.options.observer?.answered(command, qmpError.errorClass);
    return errorResponse(qmpError, id);
  }

  /**
   * What validation or a handler threw, as the error to answer (the one
   * place where errors become QMP errors; the human monitor's in-process
   * calls use it too): a QmpError
   * as it is, an argument the input visitor refused as GenericError (QEMU's
   * visitors use error_setg), a domain error as the injected table says;
   * anything else is a bug, reported and answered as GenericError.
   */
  errorFor(command: string, error: unknown): QmpError {
    if (error instanceof QmpError) return error;
    if (error instanceof QapiInputError) return new GenericError(error.message, { cause: error });
    const converted = this.options.toQmpError(error);
    if (converted !== undefined) return converted;
    this.options.reportInternalError(command, error);
    return new GenericError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** qmp_dispatch_check_obj(): members in QDict order, first offence wins. */
function checkEnvelope(request: JsonObject, oobEnabled: boolean): { command: string; args: JsonObject | undefined } {
  let execKey: string | undefined;
  for (const key of qdictOrder(Object.keys(request))) {
    const value = request[key]!;
    if (key === 'execute' || (key === 'exec-oob' && oobEnabled)) {
      if (typeof value !== 'string') throw new GenericError(`QMP input member '${key}' must be a string`);
      if (execKey !== undefined) throw new GenericError(`QMP input member '${key}' clashes with '${execKey}'`);
      execKey = key;
    } else if (key === 'arguments') {
      if (!isJsonObject(value)) throw new GenericError("QMP input member 'arguments' must be an object");
    } else if (key !== 'id') {
      throw new GenericError(`QMP input member '${key}' is unexpected`);
    }
  }
  if (execKey === undefined) throw new GenericError("QMP input lacks member 'execute'");
  return { command: request[execKey] as string, args: request['arguments'] as JsonObject | undefined };
}

/** A command without arguments still refuses any it is given, as QEMU's q_empty visitor does. */
function checkNoArguments(args: JsonObject | undefined): undefined {
  const unexpected = args === undefined ? undefined : firstUnvisitedMember(qdictOrder(Object.keys(args)), []);
  if (unexpected !== undefined) throw new GenericError(`Parameter '${unexpected}' is unexpected`);
  return undefined;
}

function asQmpError(error: unknown): QmpError {
  if (error instanceof QmpError) return error;
  throw error;
}

function returnResponse(value: unknown, id: JsonValue | undefined): JsonObject {
  const response: JsonObject = { return: (value ?? {}) as JsonValue };
  if (id !== undefined) response['id'] = id;
  return response;
}

/**
 * The GenericError reply to input that is no request (bad JSON, not an object), which carries no id. Built
 * without an error object: one input can make millions of these, and an error's stack trace costs more than the reply.
 */
export function genericErrorResponse(desc: string): JsonObject {
  return { error: { class: 'GenericError', desc } };
}

function errorResponse(error: QmpError, id: JsonValue | undefined): JsonObject {
  const response: JsonObject = { error: { class: error.errorClass, desc: error.desc } };
  if (id !== undefined) response['id'] = id;
  return response;
}
