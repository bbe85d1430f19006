import { JsonDouble } from './json-double.js';

/**
 * A JSON value as QEMU's QObject model holds it. Integers within the safe
 * range are numbers; integers beyond it but within int64/uint64 are bigints,
 * kept exact (QEMU echoes 12345678901234567890 unchanged); doubles are plain
 * numbers, except integral doubles, which are JsonDouble so that they stay
 * doubles (see json-double.ts). Parsed objects have a null prototype, so
 * `"__proto__"` is an ordinary member.
 */
export type JsonValue = null | boolean | number | bigint | string | JsonDouble | JsonValue[] | JsonObject;

export interface JsonObject {
  [key: string]: JsonValue;
}

/** A JSON object (not an array, null, or a JsonDouble). */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonDouble);
}
