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
 */
export class QmpClientError extends Error {
  override readonly name: string = 'QmpClientError';
}

export class ConnectError extends QmpClientError {
  override readonly name: string = 'ConnectError';
}

export class StateError extends QmpClientError {
  override readonly name: string = 'StateError';
}

export class ExecInterruptedError extends QmpClientError {
  override readonly name: string = 'ExecInterruptedError';
}

/** The server's `{"error": {"class", "desc"}}`; `message` is the desc. */
export class ExecuteError extends QmpClientError {
  override readonly name: string = 'ExecuteError';

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
}

export class GreetingError extends ProtocolError {
  override readonly name: string = 'GreetingError';
}

export class NegotiationError extends ProtocolError {
  override readonly name: string = 'NegotiationError';
}

export class BadReplyError extends ProtocolError {
  override readonly name: string = 'BadReplyError';
}
