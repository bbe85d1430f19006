import { cName } from './c-name.js';
import type { DocBlock } from './doc-comment.js';
import { QapiSchemaError } from './error.js';
import type { QapiIfCond, QapiSourceInfo } from './model.js';
import { isArrayValue, isObjectValue, type ParsedExpr, type QapiObjectValue, type QapiPragma, type QapiValue } from './parser.js';

/**
 * The shape checks of QEMU's scripts/qapi/expr.py: which keys each kind of
 * definition takes, naming rules, `if` conditions, features, flags. What
 * comes out is a typed, normalized form of each definition (member sugar
 * `'name': 'Type'` expanded, features as objects); resolving type names is
 * schema.ts's business. It follows expr.py check by check, in one file as
 * there, so that the two can be read side by side when QEMU's rules change.
 */

/** `'T'` or `['T']`. */
export interface TypeRef {
  readonly name: string;
  readonly array: boolean;
}

export interface FeatureExpr {
  readonly name: string;
  readonly ifcond: QapiIfCond | undefined;
}

export interface MemberExpr {
  readonly name: string;
  readonly optional: boolean;
  readonly type: TypeRef;
  readonly ifcond: QapiIfCond | undefined;
  readonly features: readonly FeatureExpr[];
}

export interface EnumMemberExpr {
  readonly name: string;
  readonly ifcond: QapiIfCond | undefined;
  readonly features: readonly FeatureExpr[];
}

export interface BranchExpr {
  readonly name: string;
  readonly type: TypeRef;
  readonly ifcond: QapiIfCond | undefined;
}

interface CommonExpr {
  readonly name: string;
  readonly info: QapiSourceInfo;
  readonly doc: DocBlock | undefined;
  readonly ifcond: QapiIfCond | undefined;
  readonly features: readonly FeatureExpr[];
}

export interface EnumExpr extends CommonExpr {
  readonly meta: 'enum';
  readonly members: readonly EnumMemberExpr[];
  readonly prefix: string | undefined;
}

export interface StructExpr extends CommonExpr {
  readonly meta: 'struct';
  readonly base: string | undefined;
  readonly members: readonly MemberExpr[];
}

export interface UnionExpr extends CommonExpr {
  readonly meta: 'union';
  /** A struct's name, or inline members. */
  readonly base: string | readonly MemberExpr[];
  readonly discriminator: string;
  readonly branches: readonly BranchExpr[];
}

export interface AlternateExpr extends CommonExpr {
  readonly meta: 'alternate';
  readonly branches: readonly BranchExpr[];
}

export interface CommandExpr extends CommonExpr {
  readonly meta: 'command';
  /** A type's name, inline members, or nothing. */
  readonly data: string | readonly MemberExpr[] | undefined;
  readonly returns: TypeRef | undefined;
  readonly boxed: boolean;
  readonly gen: boolean;
  readonly successResponse: boolean;
  readonly allowOob: boolean;
  readonly allowPreconfig: boolean;
  readonly coroutine: boolean;
}

export interface EventExpr extends CommonExpr {
  readonly meta: 'event';
  readonly data: string | readonly MemberExpr[] | undefined;
  readonly boxed: boolean;
}

export type DefinitionExpr = EnumExpr | StructExpr | UnionExpr | AlternateExpr | CommandExpr | EventExpr;
export type Meta = DefinitionExpr['meta'];

export interface CheckExprOptions {
  /** QEMU 9.1+'s rules; with them `Returns:` is only for commands that return something. */
  readonly currentRules: boolean;
}

const METAS: readonly Meta[] = ['enum', 'struct', 'union', 'alternate', 'command', 'event'];

// QEMU's valid_name: optional downstream prefix __RFQDN_, optional x-, then
// a letter followed by letters, digits, '-' and '_'.
const VALID_NAME = /^(__[a-z0-9.-]+_)?(x-)?([a-z][a-z0-9_-]*)$/i;

/** Checks every definition, in order; throws on the first problem. */
export function checkExprs(items: readonly ParsedExpr[], pragma: QapiPragma, options: CheckExprOptions): DefinitionExpr[] {
  return items.map((item) => new ExprChecker(item, pragma, options).check());
}

/** Checks a name's characters and reserved prefixes; returns its stem (no downstream or x- prefix). */
function checkNameStr(name: string, info: QapiSourceInfo, source: string): string {
  // The whole q_ namespace is reserved for c_name() munging and for the
  // implicit types q_empty and q_obj_*.
  const match = VALID_NAME.exec(name);
  if (!match || cName(name, false).startsWith('q_')) throw new QapiSchemaError(info, `${source} has an invalid name`);
  return match[3]!;
}

function checkNameIsStr(name: QapiValue | undefined, info: QapiSourceInfo, source: string): asserts name is string {
  if (typeof name !== 'string') throw new QapiSchemaError(info, `${source} requires a string name`);
}

/** Event names: ALL_CAPS. */
function checkNameUpper(name: string, info: QapiSourceInfo, source: string): void {
  const stem = checkNameStr(name, info, source);
  if (/[a-z-]/.test(stem)) throw new QapiSchemaError(info, `name of ${source} must not use lowercase or '-'`);
}

/** Command, member, feature and enum value names: lower-case-with-dashes, unless a pragma permits more. */
function checkNameLower(name: string, info: QapiSourceInfo, source: string, permitUpper = false, permitUnderscore = false): void {
  const stem = checkNameStr(name, info, source);
  if ((!permitUpper && /[A-Z]/.test(stem)) || (!permitUnderscore && stem.includes('_'))) {
    throw new QapiSchemaError(info, `name of ${source} must not use uppercase or '_'`);
  }
}

/** Type names: CamelCase. */
function checkNameCamel(name: string, info: QapiSourceInfo, source: string): void {
  const stem = checkNameStr(name, info, source);
  if (!/^[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$/.test(stem)) throw new QapiSchemaError(info, `name of ${source} must use CamelCase`);
}

function quoteSorted(names: Iterable<string>): string {
  return [...names]
    .sort()
    .map((n) => `'${n}'`)
    .join(', ');
}

/** Requires exactly the keys `required` and allows `optional` ones. */
function checkKeys(value: QapiObjectValue, info: QapiSourceInfo, source: string, required: readonly string[], optional: readonly string[]): void {
  const missing = required.filter((k) => !value.has(k));
  if (missing.length > 0) {
    throw new QapiSchemaError(info, `${source} misses key${missing.length > 1 ? 's' : ''} ${quoteSorted(missing)}`);
  }
  const allowed = new Set([...required, ...optional]);
  const unknown = [...value.keys()].filter((k) => !allowed.has(k));
  if (unknown.length > 0) {
    // QEMU puts "Valid keys are ..." on a second line; we keep one line.
    throw new QapiSchemaError(info, `${source} has unknown key${unknown.length > 1 ? 's' : ''} ${quoteSorted(unknown)}; valid keys are ${quoteSorted(allowed)}`);
  }
}

/** Validates an `if` value and converts it to the model's form. */
function checkIf(value: QapiValue | undefined, info: QapiSourceInfo, source: string): QapiIfCond | undefined {
  if (value === undefined) return undefined;
  const check = (cond: QapiValue): QapiIfCond => {
    if (typeof cond === 'string') {
      // Config symbols only; QEMU 6.1 dropped the C expression strings ('defined(X)').
      if (!/^[A-Z][A-Z0-9_]*$/.test(cond)) {
        throw new QapiSchemaError(info, `'if' condition '${cond}' of ${source} is not a valid identifier`);
      }
      return cond;
    }
    if (!isObjectValue(cond)) throw new QapiSchemaError(info, `'if' condition of ${source} must be a string or an object`);
    checkKeys(cond, info, `'if' condition of ${source}`, [], ['all', 'any', 'not']);
    if (cond.size !== 1) throw new QapiSchemaError(info, `'if' condition of ${source} has conflicting keys`);
    const not = cond.get('not');
    if (not !== undefined) return { not: check(not) };
    const all = cond.get('all');
    if (all !== undefined) return { all: infix('all', all) };
    return { any: infix('any', cond.get('any')!) };
  };
  const infix = (operator: string, operands: QapiValue): QapiIfCond[] => {
    if (!isArrayValue(operands)) throw new QapiSchemaError(info, `'${operator}' condition of ${source} must be an array`);
    if (operands.length === 0) throw new QapiSchemaError(info, `'if' condition [] of ${source} is useless`);
    return operands.map(check);
  };
  return check(value);
}

/** A `features` list: names or `{name, if}` objects. */
function checkFeatures(value: QapiValue | undefined, info: QapiSourceInfo): FeatureExpr[] {
  if (value === undefined) return [];
  if (!isArrayValue(value)) throw new QapiSchemaError(info, "'features' must be an array");
  return value.map((raw) => {
    const feature: QapiObjectValue = isObjectValue(raw) ? raw : new Map([['name', raw]]);
    let source = "'features' member";
    checkKeys(feature, info, source, ['name'], ['if']);
    const name = feature.get('name');
    checkNameIsStr(name, info, source);
    source = `${source} '${name}'`;
    checkNameLower(name, info, source);
    return { name, ifcond: checkIf(feature.get('if'), info, source) };
  });
}

/** `'T'` or `['T']` (QEMU's check_type_name_or_array). */
function checkTypeNameOrArray(value: QapiValue | undefined, info: QapiSourceInfo, source: string): TypeRef | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return { name: value, array: false };
  if (!isArrayValue(value)) throw new QapiSchemaError(info, `${source} should be a type name or array`);
  const element = value[0];
  if (value.length !== 1 || typeof element !== 'string') {
    throw new QapiSchemaError(info, `${source}: array type must contain single type name`);
  }
  return { name: element, array: true };
}

/** `'T'` only (QEMU's check_type_name). */
function checkTypeName(value: QapiValue | undefined, info: QapiSourceInfo, source: string): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw new QapiSchemaError(info, `${source} should be a type name`);
  return value;
}

/** Member sugar: `'name': 'T'` means `'name': {'type': 'T'}` (QEMU's normalize_members). */
function memberValue(value: QapiValue): QapiObjectValue {
  return isObjectValue(value) ? value : new Map([['type', value]]);
}

/**
 * Inline members (QEMU's check_type_implicit). `parent` is the type whose
 * name pragma member-name-exceptions may list; commands and events have none.
 */
function checkImplicit(value: QapiValue, info: QapiSourceInfo, source: string, parent: string | undefined, pragma: QapiPragma): MemberExpr[] {
  if (!isObjectValue(value)) throw new QapiSchemaError(info, `${source} should be an object or type name`);
  const permissive = parent !== undefined && pragma.memberNameExceptions.includes(parent);
  return [...value].map(([key, raw]) => {
    const keySource = `${source} member '${key}'`;
    const optional = key.startsWith('*');
    const name = optional ? key.slice(1) : key;
    checkNameLower(name, info, keySource, permissive, permissive);
    // C reserves `u` for the union of variant members and `has_*` for presence flags.
    const c = cName(name, false);
    if (c === 'u' || c.startsWith('has_')) throw new QapiSchemaError(info, `${keySource} uses reserved name`);
    const arg = memberValue(raw);
    checkKeys(arg, info, keySource, ['type'], ['if', 'features']);
    const ifcond = checkIf(arg.get('if'), info, keySource);
    const features = checkFeatures(arg.get('features'), info);
    const type = checkTypeNameOrArray(arg.get('type'), info, keySource)!;
    return { name, optional, type, ifcond, features };
  });
}

function checkTypeNameOrImplicit(
  value: QapiValue | undefined,
  info: QapiSourceInfo,
  source: string,
  parent: string | undefined,
  pragma: QapiPragma,
): string | MemberExpr[] | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return checkImplicit(value, info, source, parent, pragma);
}

/** Python truthiness of a schema value, for QEMU's `if not members` and `expr.get('boxed', False)`. */
function truthy(value: QapiValue | undefined): boolean {
  if (value === undefined || value === false || value === '') return false;
  if (isArrayValue(value)) return value.length > 0;
  if (isObjectValue(value)) return value.size > 0;
  return true;
}

class ExprChecker {
  readonly #expr: QapiObjectValue;
  readonly #info: QapiSourceInfo;
  readonly #doc: DocBlock | undefined;
  readonly #pragma: QapiPragma;
  readonly #options: CheckExprOptions;

  constructor(item: ParsedExpr, pragma: QapiPragma, options: CheckExprOptions) {
    this.#expr = item.expr;
    this.#info = item.info;
    this.#doc = item.doc;
    this.#pragma = pragma;
    this.#options = options;
  }

  check(): DefinitionExpr {
    const expr = this.#expr;
    const info = this.#info;
    const metas = METAS.filter((m) => expr.has(m));
    const meta = metas[0];
    if (metas.length !== 1 || meta === undefined) {
      throw new QapiSchemaError(info, "expression must have exactly one key 'enum', 'struct', 'union', 'alternate', 'command', 'event'");
    }
    const name = expr.get(meta);
    checkNameIsStr(name, info, `'${meta}'`);
    this.#checkDefinitionName(name, meta);
    this.#checkDoc(name, meta);

    let definition: DefinitionExpr;
    const common = (): CommonExpr => ({
      name,
      info,
      doc: this.#doc,
      ifcond: checkIf(expr.get('if'), info, meta),
      features: checkFeatures(expr.get('features'), info),
    });
    switch (meta) {
      case 'enum': {
        checkKeys(expr, info, meta, ['enum', 'data'], ['if', 'features', 'prefix']);
        const { members, prefix } = this.#enum(name);
        definition = { meta, ...common(), members, prefix };
        break;
      }
      case 'struct': {
        checkKeys(expr, info, meta, ['struct', 'data'], ['base', 'if', 'features']);
        const members = checkImplicit(expr.get('data')!, info, "'data'", name, this.#pragma);
        const base = checkTypeName(expr.get('base'), info, "'base'");
        definition = { meta, ...common(), base, members };
        break;
      }
      case 'union': {
        checkKeys(expr, info, meta, ['union', 'base', 'discriminator', 'data'], ['if', 'features']);
        const base = checkTypeNameOrImplicit(expr.get('base'), info, "'base'", name, this.#pragma)!;
        const discriminator = expr.get('discriminator');
        checkNameIsStr(discriminator, info, "'discriminator'");
        const data = expr.get('data')!;
        if (!isObjectValue(data)) throw new QapiSchemaError(info, "'data' must be an object");
        const branches = [...data].map(([key, raw]): BranchExpr => {
          const source = `'data' member '${key}'`;
          const value = memberValue(raw);
          checkKeys(value, info, source, ['type'], ['if']);
          const ifcond = checkIf(value.get('if'), info, source);
          const type = checkTypeName(value.get('type'), info, source)!;
          return { name: key, type: { name: type, array: false }, ifcond };
        });
        definition = { meta, ...common(), base, discriminator, branches };
        break;
      }
      case 'alternate': {
        checkKeys(expr, info, meta, ['alternate', 'data'], ['if', 'features']);
        const data = expr.get('data')!;
        if (!truthy(data)) throw new QapiSchemaError(info, "'data' must not be empty");
        if (!isObjectValue(data)) throw new QapiSchemaError(info, "'data' must be an object");
        const branches = [...data].map(([key, raw]): BranchExpr => {
          const source = `'data' member '${key}'`;
          checkNameLower(key, info, source);
          const value = memberValue(raw);
          checkKeys(value, info, source, ['type'], ['if']);
          const ifcond = checkIf(value.get('if'), info, source);
          const type = checkTypeNameOrArray(value.get('type'), info, source)!;
          return { name: key, type, ifcond };
        });
        definition = { meta, ...common(), branches };
        break;
      }
      case 'command': {
        checkKeys(expr, info, meta, ['command'], ['data', 'returns', 'boxed', 'if', 'features', 'gen', 'success-response', 'allow-oob', 'allow-preconfig', 'coroutine']);
        const data = this.#arguments();
        const returns = checkTypeNameOrArray(expr.get('returns'), info, "'returns'");
        definition = {
          meta,
          ...common(),
          data,
          returns,
          boxed: expr.get('boxed') === true,
          gen: expr.get('gen') !== false,
          successResponse: expr.get('success-response') !== false,
          allowOob: expr.get('allow-oob') === true,
          allowPreconfig: expr.get('allow-preconfig') === true,
          coroutine: expr.get('coroutine') === true,
        };
        break;
      }
      case 'event': {
        checkKeys(expr, info, meta, ['event'], ['data', 'boxed', 'if', 'features']);
        const data = this.#arguments();
        definition = { meta, ...common(), data, boxed: expr.get('boxed') === true };
        break;
      }
    }
    this.#checkFlags();
    return definition;
  }

  #checkDefinitionName(name: string, meta: Meta): void {
    const info = this.#info;
    if (meta === 'event') {
      checkNameUpper(name, info, meta);
    } else if (meta === 'command') {
      checkNameLower(name, info, meta, false, this.#pragma.commandNameExceptions.includes(name));
    } else {
      checkNameCamel(name, info, meta);
      // Array types are named <Element>List.
      if (name.endsWith('List')) throw new QapiSchemaError(info, `${meta} name should not end in 'List'`);
    }
  }

  #checkDoc(name: string, meta: Meta): void {
    const doc = this.#doc;
    const info = this.#info;
    if (doc === undefined) {
      if (this.#pragma.docRequired) throw new QapiSchemaError(info, 'documentation comment required');
      return;
    }
    if (doc.symbol !== name) throw new QapiSchemaError(info, `documentation comment is for '${doc.symbol ?? ''}'`);
    const returns = doc.section('Returns');
    const errors = doc.section('Errors');
    if (meta === 'command') {
      // QEMU 7.2's schema documents "Returns: nothing on success" on
      // commands without 'returns'; QEMU >= 9.1 rejects that.
      if (this.#options.currentRules && returns !== undefined && !this.#expr.has('returns')) {
        throw new QapiSchemaError(returns.info, "'Returns' section, but command doesn't return anything");
      }
    } else {
      if (returns !== undefined) throw new QapiSchemaError(returns.info, "'Returns' section is only valid for commands");
      if (errors !== undefined) throw new QapiSchemaError(errors.info, "'Errors' section is only valid for commands");
    }
  }

  #enum(name: string): { members: EnumMemberExpr[]; prefix: string | undefined } {
    const info = this.#info;
    const data = this.#expr.get('data');
    const prefix = this.#expr.get('prefix');
    if (!isArrayValue(data)) throw new QapiSchemaError(info, "'data' must be an array");
    if (prefix !== undefined && typeof prefix !== 'string') throw new QapiSchemaError(info, "'prefix' must be a string");
    const permissive = this.#pragma.memberNameExceptions.includes(name);
    const members = data.map((raw): EnumMemberExpr => {
      const member: QapiObjectValue = isObjectValue(raw) ? raw : new Map([['name', raw]]);
      let source = "'data' member";
      checkKeys(member, info, source, ['name'], ['if', 'features']);
      const memberName = member.get('name');
      checkNameIsStr(memberName, info, source);
      source = `${source} '${memberName}'`;
      // Enum values may start with a digit (QEMU hides it behind a letter for the check).
      const checked = /^[0-9]/.test(memberName) ? `d${memberName}` : memberName;
      checkNameLower(checked, info, source, permissive, permissive);
      const ifcond = checkIf(member.get('if'), info, source);
      const features = checkFeatures(member.get('features'), info);
      return { name: memberName, ifcond, features };
    });
    return { members, prefix };
  }

  /** A command's or event's 'data'. */
  #arguments(): string | MemberExpr[] | undefined {
    const info = this.#info;
    const args = this.#expr.get('data');
    if (truthy(this.#expr.get('boxed'))) {
      if (args === undefined) throw new QapiSchemaError(info, "'boxed': true requires 'data'");
      return checkTypeName(args, info, "'data'");
    }
    return checkTypeNameOrImplicit(args, info, "'data'", undefined, this.#pragma);
  }

  #checkFlags(): void {
    const expr = this.#expr;
    const info = this.#info;
    for (const key of ['gen', 'success-response']) {
      if (expr.has(key) && expr.get(key) !== false) throw new QapiSchemaError(info, `flag '${key}' may only use false value`);
    }
    for (const key of ['boxed', 'allow-oob', 'allow-preconfig', 'coroutine']) {
      if (expr.has(key) && expr.get(key) !== true) throw new QapiSchemaError(info, `flag '${key}' may only use true value`);
    }
    // No use case yet, and the semantics would not be obvious (QEMU).
    if (expr.has('allow-oob') && expr.has('coroutine')) {
      throw new QapiSchemaError(info, "flags 'allow-oob' and 'coroutine' are incompatible");
    }
  }
}
