import { JsonDouble } from '../qobject/json-double.js';
import type { JsonValue } from '../qobject/json-value.js';
import { formatQmpJson } from '../qobject/json-writer.js';

/**
 * One request as text. JSON.stringify where it is exact; QEMU's own
 * serialisation where it is not: bigint arguments (64-bit integers) and
 * JsonDouble values (a double that must stay one).
 */
export function serialiseRequest(verb: 'execute' | 'exec-oob', command: string, args: object | undefined, id: number): string {
  if (args === undefined) return `{"${verb}":${JSON.stringify(command)},"id":${id}}`;
  let json: string;
  try {
    json = JSON.stringify(args, rejectSpecial);
  } catch {
    json = formatQmpJson(args as unknown as JsonValue);
  }
  return `{"${verb}":${JSON.stringify(command)},"arguments":${json},"id":${id}}`;
}

function rejectSpecial(_key: string, value: unknown): unknown {
  if (value instanceof JsonDouble) throw new TypeError('JsonDouble');
  return value;
}
