import type { QapiType } from './model.js';

/** Built-in QAPI types as TypeScript types (all integer widths are JS numbers). */
const BUILTIN_TS: { readonly [name: string]: string } = {
  str: 'string',
  number: 'number',
  int: 'number',
  int8: 'number',
  int16: 'number',
  int32: 'number',
  int64: 'number',
  uint8: 'number',
  uint16: 'number',
  uint32: 'number',
  uint64: 'number',
  size: 'number',
  bool: 'boolean',
  null: 'null',
  any: 'unknown',
  QType: "'none' | 'qnull' | 'qnum' | 'qstring' | 'qdict' | 'qlist' | 'qbool'",
};

/** 'query-version' → 'QueryVersion', 'SHUTDOWN' → 'Shutdown', 'qmp_capabilities' → 'QmpCapabilities'. */
export function pascalCase(name: string): string {
  return name
    .split(/[-_.]+/)
    .filter((part) => part !== '')
    .map((part) => {
      const lower = part === part.toUpperCase() ? part.toLowerCase() : part;
      return lower[0]!.toUpperCase() + lower.slice(1);
    })
    .join('');
}

/** 'query-version' → 'queryVersion': client method names. */
export function camelCase(name: string): string {
  const pascal = pascalCase(name);
  return pascal[0]!.toLowerCase() + pascal.slice(1);
}

/**
 * The TypeScript name of a named (non-builtin, non-array) type. Implicit
 * types get names from their owner: `q_obj_chardev-add-arg` →
 * `ChardevAddArguments`, `q_obj_SHUTDOWN-arg` → `ShutdownEventData`,
 * `q_obj_SchemaInfo-base` → `SchemaInfoBase`.
 */
export function tsDeclName(qapiName: string): string {
  if (qapiName === 'q_empty') return 'QEmpty';
  const implicit = /^q_obj_(.*)-(arg|base)$/.exec(qapiName);
  if (implicit) {
    const owner = implicit[1]!;
    if (implicit[2] === 'base') return `${pascalCase(owner)}Base`;
    return /^[A-Z0-9_]+$/.test(owner) ? `${pascalCase(owner)}EventData` : `${pascalCase(owner)}Arguments`;
  }
  return qapiName.replace(/[^A-Za-z0-9_]/g, '_');
}

/** A type reference as TypeScript. */
export function tsTypeRef(type: QapiType): string {
  switch (type.kind) {
    case 'builtin':
      return BUILTIN_TS[type.name] ?? 'unknown';
    case 'array': {
      const element = tsTypeRef(type.elementType);
      return /^[A-Za-z0-9_]+$/.test(element) ? `${element}[]` : `(${element})[]`;
    }
    default:
      return tsDeclName(type.name);
  }
}

/** A member name as a property key: bare when it is an identifier, quoted otherwise. */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : `'${name}'`;
}
