import { ChardevdError } from '../base/error.js';

/**
 * Errors of the QMP client, the tree of QEMU's python/qemu/qmp/error.py:
 *
 *   QmpClientError
 *   ├── ConnectError          could not connect or the greeting/negotiation failed
 *   ├── StateError            the call does not fit the connection state
 *   ├── ExecInterruptedError  the connection went away before the reply
 *   ├── ExecuteError          the server answered with an error
 *   └── ProtocolError         the server broke the protocol
 *       ├── GreetingError
 *       ├── NegotiationError
 *       └── BadReplyError
 *
 * Each is a ChardevdError with a stable `code` of its own (CLIENT_CONNECT_FAILED...).
 */
export class QmpClientError extends ChardevdError {
  override readonly name: string = 'QmpClientError';
  readonly code: string = 'CLIENT_FAILED';
}

export class ConnectError extends QmpClientError {
  override readonly name: string = 'ConnectError';
  override readonly code: string = 'CLIENT_CONNECT_FAILED';
}

export class StateError extends QmpClientError {
  override readonly name: string = 'StateError';
  override readonly code: string = 'CLIENT_STATE_INVALID';
}

export class ExecInterruptedError extends QmpClientError {
  override readonly name: string = 'ExecInterruptedError';
  override readonly code: string = 'CLIENT_EXEC_INTERRUPTED';
}

/** The server's `{"error": {"class", "desc"}}`; `message` is the desc. */
export class ExecuteError extends QmpClientError {
  override readonly name: string = 'ExecuteError';
  override readonly code: string = 'CLIENT_EXECUTE_FAILED';

  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(desc);
  }
}

export class ProtocolError extends QmpClientError {
  override readonly name: string = 'ProtocolError';
  override readonly code: string = 'CLIENT_PROTOCOL_VIOLATED';
}

export class GreetingError extends ProtocolError {
  override readonly name: string = 'GreetingError';
  override readonly code: string = 'CLIENT_GREETING_INVALID';
}

export class NegotiationError extends ProtocolError {
  override readonly name: string = 'NegotiationError';
  override readonly code: string = 'CLIENT_NEGOTIATION_FAILED';
}

export class BadReplyError extends ProtocolError {
  override readonly name: string = 'BadReplyError';
  override readonly code: string = 'CLIENT_REPLY_INVALID';
}
