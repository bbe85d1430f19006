import { cName } from './c-name.js';
import type { DocBlock } from './doc-comment.js';
import { QapiSchemaError } from './error.js';
import type { Meta } from './expr.js';
import type {
  QapiAlternateType,
  QapiArrayType,
  QapiBuiltinType,
  QapiCommand,
  QapiDoc,
  QapiEnumMember,
  QapiEnumType,
  QapiEvent,
  QapiFeature,
  QapiIfCond,
  QapiJsonType,
  QapiObjectMember,
  QapiObjectType,
  QapiSourceInfo,
  QapiVariant,
} from './model.js';

/**
 * The entities of the resolved schema and their semantic checks, after
 * QEMU's QAPISchema*Type/Member classes (scripts/qapi/schema.py). Each class
 * implements its model.ts interface with plain own properties (resolved
 * references are filled in by check()); what only checking needs
 * (unresolved type names, where a member was defined) stays in private
 * fields, so the generators, JSON.stringify and deepEqual see just the model.
 *
 * Why one file of this length: the classes resolve and check one another
 * (an object's members are other entities, a command's arguments are an
 * object type, and every check narrows with instanceof), so splitting them
 * would make an import circle; schema.py keeps them together for the same
 * reason.
 */

/**
 * The definition whose check reports an error: QEMU's info with
 * defn_meta/defn_name. Messages name members relative to it ("member 'a'"
 * inside the definition, "member 'a' of type 'Base'" from elsewhere).
 */
export interface Where {
  readonly info: QapiSourceInfo;
  readonly defnName: string;
  readonly defnMeta: Meta;
}

/** What checks need from the schema being built. */
export interface SchemaContext {
  /** Looks a type up; throws "WHAT uses unknown type 'NAME'" when there is none. */
  resolveType(name: string, where: Where, what: string): SchemaType;
  lookupType(name: string): SchemaType | undefined;
  /**
   * QEMU 9.1+'s rules: every member of a documented definition documented
   * unless pragma documentation-exceptions lists it, no unboxed conditional
   * arguments. False for schemas written for older QEMU.
   */
  readonly currentRules: boolean;
  readonly documentationExceptions: readonly string[];
  readonly commandReturnsExceptions: readonly string[];
}

export type SchemaType = BuiltinType | EnumType | ArrayType | ObjectType | AlternateType;
export type SchemaEntity = SchemaType | Command | Event;

const SPECIAL_FEATURES = new Set(['deprecated', 'unstable']);

function fail(where: Where | undefined, message: string): never {
  throw new QapiSchemaError(where?.info, message);
}

/** A feature of a definition, member or enum value. */
export class Feature implements QapiFeature {
  readonly name: string;
  readonly ifcond: QapiIfCond | undefined;

  constructor(name: string, ifcond: QapiIfCond | undefined) {
    this.name = name;
    this.ifcond = ifcond;
  }
}

/** Duplicate features clash by their C name, as QEMU's check_clash does. */
function checkFeatureClash(features: readonly Feature[], where: Where | undefined): void {
  const seen = new Map<string, Feature>();
  for (const f of features) {
    const other = seen.get(cName(f.name));
    if (other !== undefined) fail(where, `feature '${f.name}' collides with feature '${other.name}'`);
    seen.set(cName(f.name), f);
  }
}

/** A doc block's descriptions claimed by members, QEMU's QAPIDoc.connect_member/connect_feature. */
function connectMember(doc: DocBlock | undefined, role: string, name: string, where: Where, ctx: SchemaContext): void {
  if (doc === undefined) return;
  const section = doc.args.get(name);
  if (section !== undefined) {
    section.connected = true;
    return;
  }
  if (ctx.currentRules && !ctx.documentationExceptions.includes(doc.symbol ?? '')) {
    fail(where, `${role} '${name}' lacks documentation`);
  }
}

function connectFeatures(doc: DocBlock | undefined, features: readonly Feature[], where: Where): void {
  if (doc === undefined) return;
  for (const f of features) {
    const section = doc.features.get(f.name);
    if (section === undefined) fail(where, `feature '${f.name}' lacks documentation`);
    section.connected = true;
  }
}

abstract class Definition {
  readonly name: string;
  readonly info: QapiSourceInfo | undefined;
  /** The doc block is complete once parsed; checking only marks what members claim. */
  readonly doc: QapiDoc | undefined;
  readonly features: readonly Feature[];
  readonly #where: Where | undefined;
  readonly #doc: DocBlock | undefined;

  constructor(name: string, where: Where | undefined, doc: DocBlock | undefined, features: readonly Feature[]) {
    this.name = name;
    this.info = where?.info;
    this.doc = doc?.toModel();
    this.features = features;
    this.#where = where;
    this.#doc = doc;
  }

  get where(): Where | undefined {
    return this.#where;
  }

  get docBlock(): DocBlock | undefined {
    return this.#doc;
  }

  abstract describe(): string;

  check(_ctx: SchemaContext): void {
    checkFeatureClash(this.features, this.#where);
  }

  connectDoc(_ctx: SchemaContext, doc: DocBlock | undefined = this.#doc): void {
    if (this.#where !== undefined) connectFeatures(doc, this.features, this.#where);
  }
}

abstract class TypeDefinition extends Definition {
  abstract readonly jsonType: QapiJsonType;

  override check(ctx: SchemaContext): void {
    super.check(ctx);
    // deprecated/unstable mark what a client may use: commands, events, members, values.
    for (const f of this.features) {
      if (SPECIAL_FEATURES.has(f.name)) fail(this.where, `feature '${f.name}' is not supported for types`);
    }
  }
}

export class BuiltinType extends TypeDefinition implements QapiBuiltinType {
  readonly kind = 'builtin';
  readonly jsonType: QapiJsonType;
  readonly ifcond = undefined;
  readonly implicit = false;

  constructor(name: string, jsonType: QapiJsonType) {
    super(name, undefined, undefined, []);
    this.jsonType = jsonType;
  }

  describe(): string {
    // QType is an enum in QEMU; the model lists it among the built-ins.
    return this.name === 'QType' ? `enum type '${this.name}'` : `built-in type '${this.name}'`;
  }
}

export class EnumMember implements QapiEnumMember {
  readonly name: string;
  readonly ifcond: QapiIfCond | undefined;
  readonly features: readonly Feature[];

  constructor(name: string, ifcond: QapiIfCond | undefined, features: readonly Feature[]) {
    this.name = name;
    this.ifcond = ifcond;
    this.features = features;
  }
}

export class EnumType extends TypeDefinition implements QapiEnumType {
  readonly kind = 'enum';
  readonly jsonType = 'string';
  readonly ifcond: QapiIfCond | undefined;
  readonly implicit = false;
  readonly members: readonly EnumMember[];
  readonly prefix: string | undefined;

  constructor(
    name: string,
    where: Where,
    doc: DocBlock | undefined,
    ifcond: QapiIfCond | undefined,
    features: readonly Feature[],
    members: readonly EnumMember[],
    prefix: string | undefined,
  ) {
    super(name, where, doc, features);
    this.ifcond = ifcond;
    this.members = members;
    this.prefix = prefix;
  }

  describe(): string {
    return `enum type '${this.name}'`;
  }

  override check(ctx: SchemaContext): void {
    super.check(ctx);
    // 'one-two' and 'one_two' would be the same C enumeration constant.
    const seen = new Map<string, EnumMember>();
    for (const m of this.members) {
      const other = seen.get(cName(m.name));
      if (other !== undefined) fail(this.where, `value '${m.name}' collides with value '${other.name}'`);
      seen.set(cName(m.name), m);
      checkFeatureClash(m.features, this.where);
    }
  }

  override connectDoc(ctx: SchemaContext, doc: DocBlock | undefined = this.docBlock): void {
    super.connectDoc(ctx, doc);
    const where = this.where!;
    for (const m of this.members) {
      connectMember(doc, 'value', m.name, where, ctx);
      connectFeatures(doc, m.features, where);
    }
  }
}

export class ArrayType extends TypeDefinition implements QapiArrayType {
  readonly kind = 'array';
  readonly jsonType = 'array';
  readonly implicit = true;
  /** Set by check(). */
  elementType!: SchemaType;
  /** An array is compiled in exactly when its element type is; set by check(). */
  ifcond: QapiIfCond | undefined = undefined;
  readonly #elementName: string;
  #checked = false;

  constructor(name: string, where: Where | undefined, elementName: string) {
    super(name, where, undefined, []);
    this.#elementName = elementName;
  }

  describe(): string {
    return `array type ['${this.#elementName}']`;
  }

  override check(ctx: SchemaContext): void {
    // Also called on demand by a command's 'returns' check; once is enough.
    if (this.#checked) return;
    this.#checked = true;
    super.check(ctx);
    const where = this.where;
    const element = where === undefined ? ctx.lookupType(this.#elementName) : ctx.resolveType(this.#elementName, where, where.defnMeta);
    if (element === undefined) throw new Error(`built-in element type ${this.#elementName} missing`);
    // `['intList']` would be an array of arrays; QEMU asserts on it.
    if (element.kind === 'array') fail(where, `${where?.defnMeta ?? 'array'} uses array type '${element.name}' as an array element`);
    this.elementType = element;
    this.ifcond = element.ifcond;
  }
}

/** A struct/union member; also the base of union branches and alternate branches. */
export class ObjectMember implements QapiObjectMember {
  readonly name: string;
  /** Set by check(). */
  type!: SchemaType;
  readonly optional: boolean;
  readonly ifcond: QapiIfCond | undefined;
  readonly features: readonly Feature[];
  readonly info: QapiSourceInfo;
  readonly #where: Where;
  readonly #typeName: string;
  #definedIn = '';

  constructor(name: string, where: Where, typeName: string, optional: boolean, ifcond: QapiIfCond | undefined, features: readonly Feature[]) {
    this.name = name;
    this.optional = optional;
    this.ifcond = ifcond;
    this.features = features;
    this.info = where.info;
    this.#where = where;
    this.#typeName = typeName;
  }

  get where(): Where {
    return this.#where;
  }

  /** Name of the type that declares the member (q_obj_* for inline members). */
  get definedIn(): string {
    return this.#definedIn;
  }

  set definedIn(name: string) {
    this.#definedIn = name;
  }

  get role(): string {
    return 'member';
  }

  check(ctx: SchemaContext): void {
    this.type = ctx.resolveType(this.#typeName, this.#where, this.describe(this.#where));
    checkFeatureClash(this.features, this.#where);
  }

  /**
   * "member 'a'", "member 'a' of type 'Base'", "parameter 'a'",
   * "base member 'a'": QEMU's QAPISchemaMember.describe(), which undoes
   * the q_obj_<name>-arg / q_obj_<name>-base naming of implicit types.
   */
  describe(where: Where | undefined): string {
    let role = this.role;
    let meta = 'type';
    let definedIn = this.definedIn;
    const implicit = /^q_obj_(.*)-(arg|base)$/.exec(definedIn);
    if (implicit) {
      definedIn = implicit[1]!;
      if (implicit[2] === 'arg') {
        role = 'parameter';
        meta = 'command';
      } else {
        role = `base ${role}`;
      }
    }
    if (definedIn !== where?.defnName) return `${role} '${this.name}' of ${meta} '${definedIn}'`;
    return `${role} '${this.name}'`;
  }

  /** Members must differ in their C names (QEMU's check_clash). */
  checkClash(where: Where | undefined, seen: Map<string, ObjectMember>): void {
    const key = cName(this.name);
    const other = seen.get(key);
    if (other !== undefined) fail(where, `${this.describe(where)} collides with ${other.describe(where)}`);
    seen.set(key, this);
  }

  connectDoc(ctx: SchemaContext, doc: DocBlock | undefined): void {
    connectMember(doc, this.role, this.name, this.#where, ctx);
    connectFeatures(doc, this.features, this.#where);
  }
}

/** A union branch or an alternate branch. */
export class Variant extends ObjectMember implements QapiVariant {
  constructor(name: string, where: Where, typeName: string, ifcond: QapiIfCond | undefined) {
    super(name, where, typeName, false, ifcond, []);
  }

  override get role(): string {
    return 'branch';
  }
}

export class ObjectType extends TypeDefinition implements QapiObjectType {
  readonly kind = 'object';
  readonly jsonType = 'object';
  readonly ifcond: QapiIfCond | undefined;
  readonly implicit: boolean;
  readonly localMembers: readonly ObjectMember[];
  /** The following three are set by check(). */
  base: ObjectType | undefined = undefined;
  members: readonly ObjectMember[] = [];
  variants: { readonly tagMember: ObjectMember; readonly variants: readonly Variant[] } | undefined = undefined;
  readonly #baseName: string | undefined;
  readonly #tagName: string | undefined;
  readonly #branches: Variant[] | undefined;
  #state: 'new' | 'checking' | 'done' = 'new';

  constructor(
    name: string,
    where: Where | undefined,
    doc: DocBlock | undefined,
    ifcond: QapiIfCond | undefined,
    features: readonly Feature[],
    baseName: string | undefined,
    localMembers: readonly ObjectMember[],
    union: { readonly tagName: string; readonly branches: Variant[] } | undefined,
  ) {
    super(name, where, doc, features);
    this.ifcond = ifcond;
    this.implicit = name.startsWith('q_');
    this.#baseName = baseName;
    this.localMembers = localMembers;
    for (const m of localMembers) m.definedIn = name;
    this.#tagName = union?.tagName;
    this.#branches = union?.branches;
    for (const v of union?.branches ?? []) v.definedIn = name;
  }

  get isUnion(): boolean {
    return this.#branches !== undefined;
  }

  describe(): string {
    return `${this.isUnion ? 'union' : 'struct'} type '${this.name}'`;
  }

  override check(ctx: SchemaContext): void {
    // Checking recurses exactly where QEMU's generated C struct would
    // contain another struct: the base and union branches.
    if (this.#state === 'done') return;
    if (this.#state === 'checking') fail(this.where, `object ${this.name} contains itself`);
    super.check(ctx);
    this.#state = 'checking';
    const where = this.where;
    const seen = new Map<string, ObjectMember>();
    if (this.#baseName !== undefined && where !== undefined) {
      const base = ctx.resolveType(this.#baseName, where, "'base'");
      if (!(base instanceof ObjectType) || base.isUnion) fail(where, `'base' requires a struct type, ${base.describe()} isn't`);
      base.check(ctx);
      base.checkClash(where, seen);
      this.base = base;
    }
    for (const m of this.localMembers) {
      m.check(ctx);
      m.checkClash(where, seen);
    }
    const members = [...seen.values()];
    if (this.#branches !== undefined && where !== undefined) {
      this.#checkBranches(ctx, where, seen);
      for (const v of this.#branches) {
        // Branches are alternatives: each clashes only with the common members.
        (v.type as ObjectType).checkClash(where, new Map(seen));
      }
    }
    this.members = members;
    this.#state = 'done';
  }

  #checkBranches(ctx: SchemaContext, where: Where, seen: Map<string, ObjectMember>): void {
    const branches = this.#branches!;
    const tagName = this.#tagName!;
    const tag = seen.get(cName(tagName));
    if (tag === undefined || tag.name !== tagName) fail(where, `discriminator '${tagName}' is not a member of 'base'`);
    const baseType = ctx.lookupType(tag.definedIn);
    const base = baseType !== undefined && !baseType.implicit ? `base type '${tag.definedIn}'` : "'base'";
    const tagType = tag.type;
    if (!(tagType instanceof EnumType)) fail(where, `discriminator member '${tagName}' of ${base} must be of enum type`);
    if (tag.optional) fail(where, `discriminator member '${tagName}' of ${base} must not be optional`);
    if (tag.ifcond !== undefined) fail(where, `discriminator member '${tagName}' of ${base} must not be conditional`);
    this.variants = { tagMember: tag, variants: branches };
    // Values without a branch get the empty type, appended in enum order (as QEMU does).
    const cases = new Set(branches.map((v) => v.name));
    for (const m of tagType.members) {
      if (cases.has(m.name)) continue;
      const v = new Variant(m.name, where, 'q_empty', m.ifcond);
      v.definedIn = tag.definedIn;
      branches.push(v);
    }
    if (branches.length === 0) fail(where, 'union has no branches');
    const values = new Set(tagType.members.map((m) => m.name));
    for (const v of branches) {
      v.check(ctx);
      if (!values.has(v.name)) fail(where, `branch '${v.name}' is not a value of ${tagType.describe()}`);
      if (!(v.type instanceof ObjectType)) fail(where, `${v.describe(where)} cannot use ${v.type.describe()}`);
      v.type.check(ctx);
    }
  }

  /** Adds this type's members to `seen`, failing on a C name clash (reported at `where`). */
  checkClash(where: Where | undefined, seen: Map<string, ObjectMember>): void {
    for (const m of this.members) m.checkClash(where, seen);
    for (const v of this.#branches ?? []) (v.type as ObjectType).checkClash(where, new Map(seen));
  }

  hasConditionalMembers(): boolean {
    return this.members.some((m) => m.ifcond !== undefined);
  }

  override connectDoc(ctx: SchemaContext, doc: DocBlock | undefined = this.docBlock): void {
    super.connectDoc(ctx, doc);
    if (this.base !== undefined && this.base.implicit) this.base.connectDoc(ctx, doc);
    for (const m of this.localMembers) m.connectDoc(ctx, doc);
  }
}

/** QMP input visitors tell alternate branches apart by the JSON value's type (QEMU's QType). */
type QType = 'QNULL' | 'QSTRING' | 'QNUM' | 'QBOOL' | 'QLIST' | 'QDICT';

const JSON_TO_QTYPE: { readonly [json: string]: QType } = {
  null: 'QNULL',
  string: 'QSTRING',
  number: 'QNUM',
  int: 'QNUM',
  boolean: 'QBOOL',
  array: 'QLIST',
  object: 'QDICT',
};

export class AlternateType extends TypeDefinition implements QapiAlternateType {
  readonly kind = 'alternate';
  readonly jsonType = 'value';
  readonly ifcond: QapiIfCond | undefined;
  readonly implicit = false;
  readonly variants: readonly Variant[];

  constructor(name: string, where: Where, doc: DocBlock | undefined, ifcond: QapiIfCond | undefined, features: readonly Feature[], variants: readonly Variant[]) {
    super(name, where, doc, features);
    this.ifcond = ifcond;
    this.variants = variants;
    for (const v of variants) v.definedIn = name;
  }

  describe(): string {
    return `alternate type '${this.name}'`;
  }

  override check(ctx: SchemaContext): void {
    super.check(ctx);
    const where = this.where!;
    for (const v of this.variants) v.check(ctx);
    const seen = new Map<string, ObjectMember>();
    const typesSeen = new Map<QType, string>();
    for (const v of this.variants) {
      v.checkClash(where, seen);
      const type = v.type;
      const qtype = JSON_TO_QTYPE[type.jsonType];
      if (qtype === undefined) fail(where, `${v.describe(where)} cannot use ${type.describe()}`);
      const conflicting: QType[] = [qtype];
      if (qtype === 'QSTRING') {
        // An enum value that reads as a number or as on/off (the keyval
        // parser's booleans) would make a string branch ambiguous.
        const enumValues = type instanceof EnumType ? type.members.map((m) => m.name) : type.name === 'QType' ? [] : undefined;
        if (enumValues !== undefined) {
          if (enumValues.some((n) => n === 'on' || n === 'off')) conflicting.push('QBOOL');
          if (enumValues.some((n) => /^[-+0-9.]/.test(n))) conflicting.push('QNUM');
        } else {
          conflicting.push('QNUM', 'QBOOL');
        }
      }
      for (const qt of conflicting) {
        const other = typesSeen.get(qt);
        if (other !== undefined) fail(where, `${v.describe(where)} can't be distinguished from '${other}'`);
        typesSeen.set(qt, v.name);
      }
    }
  }

  override connectDoc(ctx: SchemaContext, doc: DocBlock | undefined = this.docBlock): void {
    super.connectDoc(ctx, doc);
    for (const v of this.variants) v.connectDoc(ctx, doc);
  }
}

/** What commands and events share: an argument type, maybe boxed. */
abstract class Invocable extends Definition {
  readonly ifcond: QapiIfCond | undefined;
  readonly implicit = false;
  readonly boxed: boolean;
  /** Set by check(). */
  argType: ObjectType | undefined = undefined;
  readonly #argTypeName: string | undefined;

  constructor(
    name: string,
    where: Where,
    doc: DocBlock | undefined,
    ifcond: QapiIfCond | undefined,
    features: readonly Feature[],
    argTypeName: string | undefined,
    boxed: boolean,
  ) {
    super(name, where, doc, features);
    this.ifcond = ifcond;
    this.#argTypeName = argTypeName;
    this.boxed = boxed;
  }

  protected abstract readonly meta: 'command' | 'event';

  describe(): string {
    return `${this.meta} '${this.name}'`;
  }

  override check(ctx: SchemaContext): void {
    super.check(ctx);
    const where = this.where!;
    if (this.#argTypeName === undefined) return;
    const meta = this.meta;
    const argType = ctx.resolveType(this.#argTypeName, where, `${meta}'s 'data'`);
    if (!(argType instanceof ObjectType)) fail(where, `${meta}'s 'data' cannot take ${argType.describe()}`);
    if (argType.isUnion && !this.boxed) fail(where, `${meta}'s 'data' can take ${argType.describe()} only with 'boxed': true`);
    argType.check(ctx);
    // An unboxed C function takes one parameter per member: it cannot have
    // parameters that exist only in some builds.
    if (ctx.currentRules && argType.hasConditionalMembers() && !this.boxed) {
      fail(where, `conditional ${meta} arguments require 'boxed': true`);
    }
    this.argType = argType;
  }

  override connectDoc(ctx: SchemaContext, doc: DocBlock | undefined = this.docBlock): void {
    super.connectDoc(ctx, doc);
    // Members of a named type are documented with that type.
    if (this.argType !== undefined && this.argType.implicit) this.argType.connectDoc(ctx, doc);
  }
}

export class Command extends Invocable implements QapiCommand {
  readonly kind = 'command';
  protected readonly meta = 'command';
  readonly gen: boolean;
  readonly successResponse: boolean;
  readonly allowOob: boolean;
  readonly allowPreconfig: boolean;
  readonly coroutine: boolean;
  /** Set by check(). */
  retType: SchemaType | undefined = undefined;
  readonly #retTypeName: string | undefined;

  constructor(
    name: string,
    where: Where,
    doc: DocBlock | undefined,
    ifcond: QapiIfCond | undefined,
    features: readonly Feature[],
    argTypeName: string | undefined,
    retTypeName: string | undefined,
    flags: {
      readonly boxed: boolean;
      readonly gen: boolean;
      readonly successResponse: boolean;
      readonly allowOob: boolean;
      readonly allowPreconfig: boolean;
      readonly coroutine: boolean;
    },
  ) {
    super(name, where, doc, ifcond, features, argTypeName, flags.boxed);
    this.#retTypeName = retTypeName;
    this.gen = flags.gen;
    this.successResponse = flags.successResponse;
    this.allowOob = flags.allowOob;
    this.allowPreconfig = flags.allowPreconfig;
    this.coroutine = flags.coroutine;
  }

  override check(ctx: SchemaContext): void {
    super.check(ctx);
    const where = this.where!;
    if (this.#retTypeName === undefined) return;
    const retType = ctx.resolveType(this.#retTypeName, where, "command's 'returns'");
    // Returning an object leaves room to extend the reply compatibly.
    if (!ctx.commandReturnsExceptions.includes(this.name)) {
      if (retType instanceof ArrayType) retType.check(ctx);
      const element = retType instanceof ArrayType ? retType.elementType : retType;
      if (!(element instanceof ObjectType)) fail(where, `command's 'returns' cannot take ${retType.describe()}`);
    }
    this.retType = retType;
  }
}

export class Event extends Invocable implements QapiEvent {
  readonly kind = 'event';
  protected readonly meta = 'event';
}

/** Narrows an entity to a type. */
export function isSchemaType(entity: SchemaEntity | undefined): entity is SchemaType {
  return entity !== undefined && entity.kind !== 'command' && entity.kind !== 'event';
}
