import { ChardevdError } from '../base/error.js';

/**
 * QEMU's option-string syntax (util/qemu-option.c, QemuOpts): comma
 * separated `key=value` pairs, a comma inside a value written twice
 * (`a,,b` is `a,b`), booleans spelled on/off.
 */

/** A malformed option string; the message is QEMU's text. */
export class QemuOptsError extends ChardevdError {
  override readonly name = 'QemuOptsError';
  readonly code = 'QEMU_OPTS_INVALID';
}

export interface QemuOpt {
  readonly key: string;
  /** Undefined for a bare word such as the deprecated short form `server`. */
  readonly value: string | undefined;
}

/** Splits an option string at single commas; doubled commas stay in the text as one. */
export function splitQemuOpts(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ',') {
      if (text[i + 1] === ',') {
        current += ',';
        i++;
        continue;
      }
      parts.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  parts.push(current);
  return parts;
}

/** `key=value` parts as pairs; the key of a bare word is the word itself. */
export function parseQemuOpts(parts: readonly string[]): QemuOpt[] {
  return parts.map((part) => {
    const eq = part.indexOf('=');
    return eq < 0 ? { key: part, value: undefined } : { key: part.slice(0, eq), value: part.slice(eq + 1) };
  });
}

/** A boolean option's value (qapi/qapi-util.c qapi_bool_parse accepts these spellings). */
export function parseOnOff(name: string, value: string): boolean {
  if (value === 'on' || value === 'yes' || value === 'true' || value === 'y') return true;
  if (value === 'off' || value === 'no' || value === 'false' || value === 'n') return false;
  throw new QemuOptsError(`Parameter '${name}' expects 'on' or 'off'`);
}

/** QEMU's id_wellformed (util/id.c): a letter, then letters, digits, '-', '.' and '_'. */
export function isWellFormedId(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9._-]*$/.test(id);
}

/** QemuOpts' error for a bad id; on the command line QEMU adds the rule as a second line (ID_HINT). */
export const ID_ERROR = "Parameter 'id' expects an identifier";
export const ID_HINT = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.";

/**
 * `text` with `extra` options after its last one. A run of commas at the
 * end holds escaped commas (`,,`) of the last value and, when the run is
 * odd, one more that already ends the value; only an even run needs a
 * separating comma.
 */
export function appendOptions(text: string, extra: string): string {
  const trailingCommas = text.length - text.replace(/,+$/, '').length;
  return trailingCommas % 2 === 1 ? `${text}${extra}` : `${text},${extra}`;
}
