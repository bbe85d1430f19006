import { isJsonObject, type JsonObject } from '../qobject/json-value.js';
import { ConnectError, GreetingError } from './errors.js';

/** How many characters of what a server sent instead of a greeting an error quotes. */
const QUOTED_CHARS = 100;
/** Bytes kept to quote that many characters: a UTF-8 character takes at most 4. */
export const ARRIVAL_BYTES = QUOTED_CHARS * 4 + 1;

/** The capabilities a greeting `{"QMP": {"version": ..., "capabilities": [...]}}` offers; GreetingError when it is not one. */
export function offeredCapabilities(greeting: JsonObject): string[] {
  const qmp = greeting['QMP'];
  if (!isJsonObject(qmp) || !Array.isArray(qmp['capabilities']) || !isJsonObject(qmp['version'])) {
    throw new GreetingError(`Did not understand Greeting: ${JSON.stringify(greeting)}`);
  }
  return qmp['capabilities'].filter((c): c is string => typeof c === 'string');
}

/**
 * Why no greeting came, once the connection is gone: a socket that is not
 * QMP (a human monitor, a telnet or serial console) usually sends a banner
 * of its own, and naming it tells the user which socket they reached.
 */
export function noGreetingError(where: string, arrived: Buffer): GreetingError {
  if (arrived.length === 0) return new GreetingError('the server closed the connection before its greeting');
  return new GreetingError(`${where} sent no QMP greeting; it sent: ${quoteArrival(arrived)}`);
}

/** A greeting timeout (or abort) that also says what did arrive, if anything. */
export function withArrival(error: ConnectError, arrived: Buffer): ConnectError {
  if (arrived.length === 0) return error;
  return new ConnectError(`${error.message}; it sent: ${quoteArrival(arrived)}`, { cause: error });
}

/**
 * Text a server sent, for an error message: double-quoted, control
 * characters (C0, DEL, C1) escaped so they cannot act on the terminal,
 * and cut after QUOTED_CHARS characters (`...` follows the quote then).
 */
export function quoteArrival(arrived: Buffer): string {
  const text = arrived.toString('utf8');
  const chars = Array.from(text);
  const shown = chars.slice(0, QUOTED_CHARS).join('');
  const quoted = JSON.stringify(shown).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return chars.length > QUOTED_CHARS ? `${quoted}...` : quoted;
}
