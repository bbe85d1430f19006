/**
 * The data the generator emits for every type reachable from a command or
 * event: enough for the input visitor to check arguments exactly as QEMU's
 * QObject input visitor does. Types refer to each other by QAPI name; the
 * built-in types (`str`, `int`, ..., `any`, `QType`) are known to the runtime.
 */
export type TypeSpec = EnumSpec | ArraySpec | ObjectSpec | AlternateSpec;

export interface EnumSpec {
  readonly kind: 'enum';
  readonly values: readonly string[];
}

export interface ArraySpec {
  readonly kind: 'array';
  readonly element: string;
}

export interface MemberSpec {
  readonly name: string;
  readonly type: string;
  readonly optional?: true;
}

export interface ObjectSpec {
  readonly kind: 'object';
  /** Base members first, as on the wire. */
  readonly members: readonly MemberSpec[];
  /** Union discriminator: the name of an enum member in `members`. */
  readonly tag?: string;
  /** Union branches: discriminator value → object type name (absent = no members). */
  readonly variants?: { readonly [value: string]: string };
}

export interface AlternateSpec {
  readonly kind: 'alternate';
  readonly branches: readonly string[];
}

export type TypeTable = { readonly [name: string]: TypeSpec };

export const BUILTIN_TYPES = [
  'str',
  'int',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'size',
  'number',
  'bool',
  'null',
  'any',
  'QType',
] as const;

export type BuiltinTypeName = (typeof BUILTIN_TYPES)[number];
