import {
  AlternateType,
  ArrayType,
  BuiltinType,
  Command,
  EnumMember,
  EnumType,
  Event,
  Feature,
  ObjectMember,
  ObjectType,
  Variant,
  isSchemaType,
  type SchemaContext,
  type SchemaEntity,
  type SchemaType,
  type Where,
} from './entities.js';
import { QapiSchemaError } from './error.js';
import { checkExprs, type BranchExpr, type DefinitionExpr, type FeatureExpr, type MemberExpr, type TypeRef } from './expr.js';
import type { QapiEntity, QapiFreeformDoc, QapiIfCond, QapiJsonType, QapiSchema } from './model.js';
import { parseSchemaSource, type ParsedExpr, type ParseSourceOptions } from './parser.js';

/**
 * Builds the resolved schema model from a checked parse, after QEMU's
 * QAPISchema (scripts/qapi/schema.py): built-in types, one entity per
 * definition plus the implicit types QEMU makes up (`q_obj_<cmd>-arg`,
 * `q_obj_<union>-base`, `<Elem>List`), then the semantic checks, entity by
 * entity in definition order, and finally the doc comment checks.
 */

export interface ParseSchemaOptions extends ParseSourceOptions {
  /**
   * Which generation of QEMU's rules to enforce. 'current' (the default)
   * are QEMU 9.1+'s: every member of a documented definition must be
   * documented unless pragma `documentation-exceptions` lists the
   * definition, `Returns:` only on commands that return something, and
   * conditional arguments only with `'boxed': true`. 'legacy' drops these
   * three rules, and reads a tag line inside a paragraph as a new section,
   * so that schemas written for QEMU 7.x-9.0 (QEMU 7.2's qapi/ among
   * them) load unchanged and their doc comments read as QEMU read them.
   */
  readonly rules?: 'current' | 'legacy';
}

// QEMU's predefined types, in QEMU's order, with the JSON type
// introspection reports for each (all integer types are 'int').
const BUILTINS: readonly (readonly [string, QapiJsonType])[] = [
  ['str', 'string'],
  ['number', 'number'],
  ['int', 'int'],
  ['int8', 'int'],
  ['int16', 'int'],
  ['int32', 'int'],
  ['int64', 'int'],
  ['uint8', 'int'],
  ['uint16', 'int'],
  ['uint32', 'int'],
  ['uint64', 'int'],
  ['size', 'int'],
  ['bool', 'boolean'],
  ['any', 'value'],
  ['null', 'null'],
];

// QEMU's code generator numbers features in a 64-bit mask.
const MAX_FEATURES = 64;

/**
 * Reads, checks and resolves a QAPI schema: the main file and everything it
 * includes. Throws QapiSchemaError on the first error, as QEMU does.
 */
export function parseSchema(mainFile: string, options: ParseSchemaOptions = {}): QapiSchema {
  const current = (options.rules ?? 'current') === 'current';
  const source = parseSchemaSource(mainFile, options);
  const parsed = source.items.filter((item): item is ParsedExpr => item.kind === 'expr');
  const exprs = checkExprs(parsed, source.pragma, { currentRules: current });
  const builder = new SchemaBuilder({
    currentRules: current,
    documentationExceptions: source.pragma.documentationExceptions,
    commandReturnsExceptions: source.pragma.commandReturnsExceptions,
  });
  builder.definePredefined();

  const documentation: (QapiEntity | QapiFreeformDoc)[] = [];
  let next = 0;
  for (const item of source.items) {
    if (item.kind === 'freeform') {
      documentation.push({ kind: 'freeform', doc: item.doc.toModel() });
      continue;
    }
    const expr = exprs[next++]!;
    const before = builder.entities.length;
    builder.define(expr);
    documentation.push(...builder.entities.slice(before));
  }

  builder.check();
  for (const doc of source.docs) {
    for (const [what, map] of [
      ['member', doc.args],
      ['feature', doc.features],
    ] as const) {
      const bogus = [...map.values()].filter((s) => !s.connected);
      const first = bogus[0];
      if (first === undefined) continue;
      const names = bogus.map((s) => `'${s.name ?? ''}'`).join(', ');
      const plural = bogus.length > 1;
      throw new QapiSchemaError(first.info, `documented ${what}${plural ? 's' : ''} ${names} ${plural ? 'do' : 'does'} not exist`);
    }
  }
  builder.checkFeatureCount();

  const entities: readonly QapiEntity[] = builder.entities;
  const byName = builder.byName;
  return {
    entities,
    documentation,
    files: source.files,
    lookup: (name: string): QapiEntity | undefined => byName.get(name),
  };
}

interface BuilderOptions {
  readonly currentRules: boolean;
  readonly documentationExceptions: readonly string[];
  readonly commandReturnsExceptions: readonly string[];
}

class SchemaBuilder implements SchemaContext {
  readonly entities: SchemaEntity[] = [];
  readonly byName = new Map<string, SchemaEntity>();
  readonly currentRules: boolean;
  readonly documentationExceptions: readonly string[];
  readonly commandReturnsExceptions: readonly string[];
  /** Every feature name, first use first; the special ones lead, as in QEMU. */
  readonly #features = new Map<string, Where | undefined>([
    ['deprecated', undefined],
    ['unstable', undefined],
  ]);

  constructor(options: BuilderOptions) {
    this.currentRules = options.currentRules;
    this.documentationExceptions = options.documentationExceptions;
    this.commandReturnsExceptions = options.commandReturnsExceptions;
  }

  lookupType(name: string): SchemaType | undefined {
    const entity = this.byName.get(name);
    return isSchemaType(entity) ? entity : undefined;
  }

  resolveType(name: string, where: Where, what: string): SchemaType {
    const type = this.lookupType(name);
    if (type === undefined) throw new QapiSchemaError(where.info, `${what} uses unknown type '${name}'`);
    return type;
  }

  #add(entity: SchemaEntity): void {
    const other = this.byName.get(entity.name);
    if (other !== undefined) {
      const where = entity.where;
      // QEMU adds a second line pointing at the previous definition.
      if (other.info !== undefined) throw new QapiSchemaError(where?.info, `'${entity.name}' is already defined`);
      throw new QapiSchemaError(where?.info, `${other.describe()} is already defined`);
    }
    this.entities.push(entity);
    this.byName.set(entity.name, entity);
  }

  definePredefined(): void {
    for (const [name, jsonType] of BUILTINS) {
      this.#add(new BuiltinType(name, jsonType));
      // QEMU instantiates every built-in's array type (their generated code is shared).
      this.#arrayType(name, undefined);
    }
    // The argument type of commands and events without arguments, and the
    // branch type of union values without a branch.
    this.#add(new ObjectType('q_empty', undefined, undefined, undefined, [], undefined, [], undefined));
    // The tag of alternates in QEMU's C representation.
    this.#add(new BuiltinType('QType', 'string'));
  }

  define(expr: DefinitionExpr): void {
    const where: Where = { info: expr.info, defnName: expr.name, defnMeta: expr.meta };
    const features = this.#features_(expr.features, where);
    switch (expr.meta) {
      case 'enum': {
        const members = expr.members.map((m) => new EnumMember(m.name, m.ifcond, this.#features_(m.features, where)));
        this.#add(new EnumType(expr.name, where, expr.doc, expr.ifcond, features, members, expr.prefix));
        break;
      }
      case 'struct': {
        const members = this.#members(expr.members, where);
        this.#add(new ObjectType(expr.name, where, expr.doc, expr.ifcond, features, expr.base, members, undefined));
        break;
      }
      case 'union': {
        const base = typeof expr.base === 'string' ? expr.base : this.#implicitObjectType(expr.name, where, expr.ifcond, 'base', this.#members(expr.base, where));
        const branches = this.#variants(expr.branches, where);
        this.#add(new ObjectType(expr.name, where, expr.doc, expr.ifcond, features, base, [], { tagName: expr.discriminator, branches }));
        break;
      }
      case 'alternate':
        this.#add(new AlternateType(expr.name, where, expr.doc, expr.ifcond, features, this.#variants(expr.branches, where)));
        break;
      case 'command': {
        const args = this.#argumentType(expr.name, where, expr.ifcond, expr.data);
        const returns = expr.returns === undefined ? undefined : this.#typeName(expr.returns, where);
        this.#add(new Command(expr.name, where, expr.doc, expr.ifcond, features, args, returns, expr));
        break;
      }
      case 'event': {
        const args = this.#argumentType(expr.name, where, expr.ifcond, expr.data);
        this.#add(new Event(expr.name, where, expr.doc, expr.ifcond, features, args, expr.boxed));
        break;
      }
    }
  }

  /** Checks every entity in definition order, each followed by its doc comment's members. */
  check(): void {
    for (const entity of this.entities) {
      entity.check(this);
      entity.connectDoc(this);
    }
  }

  checkFeatureCount(): void {
    const wheres = [...this.#features.values()];
    if (wheres.length > MAX_FEATURES) {
      throw new QapiSchemaError(wheres[MAX_FEATURES]?.info, `Maximum of ${MAX_FEATURES} schema features is permitted`);
    }
  }

  #features_(features: readonly FeatureExpr[], where: Where): Feature[] {
    for (const f of features) if (!this.#features.has(f.name)) this.#features.set(f.name, where);
    return features.map((f) => new Feature(f.name, f.ifcond));
  }

  /** `<Elem>List`, created on first use (QEMU's _make_array_type). */
  #arrayType(element: string, where: Where | undefined): string {
    const name = `${element}List`;
    if (this.lookupType(name) === undefined) this.#add(new ArrayType(name, where, element));
    return name;
  }

  #typeName(ref: TypeRef, where: Where): string {
    return ref.array ? this.#arrayType(ref.name, where) : ref.name;
  }

  #members(members: readonly MemberExpr[], where: Where): ObjectMember[] {
    return members.map((m) => new ObjectMember(m.name, where, this.#typeName(m.type, where), m.optional, m.ifcond, this.#features_(m.features, where)));
  }

  #variants(branches: readonly BranchExpr[], where: Where): Variant[] {
    return branches.map((b) => new Variant(b.name, where, this.#typeName(b.type, where), b.ifcond));
  }

  /**
   * `q_obj_<name>-<role>` for inline members; none when there are no
   * members (QEMU's _make_implicit_object_type). A second user of the same
   * name can only be a duplicate definition, reported when it is added.
   */
  #implicitObjectType(owner: string, where: Where, ifcond: QapiIfCond | undefined, role: 'arg' | 'base', members: ObjectMember[]): string | undefined {
    if (members.length === 0) return undefined;
    const name = `q_obj_${owner}-${role}`;
    if (this.byName.get(name) === undefined) this.#add(new ObjectType(name, where, undefined, ifcond, [], undefined, members, undefined));
    return name;
  }

  #argumentType(owner: string, where: Where, ifcond: QapiIfCond | undefined, data: string | readonly MemberExpr[] | undefined): string | undefined {
    if (data === undefined || typeof data === 'string') return data;
    return this.#implicitObjectType(owner, where, ifcond, 'arg', this.#members(data, where));
  }
}
