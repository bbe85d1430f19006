/**
 * The checked, resolved QAPI schema: what the parser and checker hand to the
 * generators. Mirrors the entity classes of QEMU's scripts/qapi/schema.py
 * (QAPISchemaEnumType, QAPISchemaObjectType, ...) as plain data: every type
 * reference is already resolved to its entity, implicit types (command
 * arguments `q_obj_<name>-arg`, inline union bases `q_obj_<name>-base`,
 * `q_empty`, array types `<Elem>List`) exist as entities of their own.
 */

/** Where a definition came from, for `file:line: message` errors. */
export interface QapiSourceInfo {
  /** Path as given on the command line or in the `include` (not resolved). */
  readonly file: string;
  readonly line: number;
}

/** A QAPI `if` condition, unevaluated (QEMU's QAPISchemaIfCond). */
export type QapiIfCond = string | { readonly all: readonly QapiIfCond[] } | { readonly any: readonly QapiIfCond[] } | { readonly not: QapiIfCond };

export interface QapiFeature {
  readonly name: string;
  readonly ifcond: QapiIfCond | undefined;
}

/** A doc comment block (`##` ... `##`) attached to a definition. */
export interface QapiDoc {
  readonly info: QapiSourceInfo;
  /** The `@SYMBOL:` the block documents; undefined for free-form blocks. */
  readonly symbol: string | undefined;
  /** Free text before the first member description or tagged section. */
  readonly body: string;
  /** `@name: text` descriptions of members / arguments, in order. */
  readonly args: ReadonlyMap<string, string>;
  /** Descriptions under `Features:`, in order. */
  readonly features: ReadonlyMap<string, string>;
  /** Tagged sections (`Since:`, `Returns:`, `Example:`...) and untagged trailing text, in order. */
  readonly sections: readonly { readonly tag: string | undefined; readonly text: string }[];
}

interface QapiDefinitionBase {
  readonly name: string;
  /** Undefined only for built-in types. */
  readonly info: QapiSourceInfo | undefined;
  readonly doc: QapiDoc | undefined;
  readonly ifcond: QapiIfCond | undefined;
  readonly features: readonly QapiFeature[];
  /** True for types the generator made up (`q_obj_*`, `q_empty`, `*List`). */
  readonly implicit: boolean;
}

/** JSON type of a built-in, as introspection's `json-type` names it. */
export type QapiJsonType = 'string' | 'number' | 'int' | 'boolean' | 'null' | 'object' | 'array' | 'value';

export interface QapiBuiltinType extends QapiDefinitionBase {
  readonly kind: 'builtin';
  /** `str`, `int`, `int8`..`uint64`, `size`, `number`, `bool`, `null`, `any`, `QType`. */
  readonly name: string;
  readonly jsonType: QapiJsonType;
}

export interface QapiEnumMember {
  readonly name: string;
  readonly ifcond: QapiIfCond | undefined;
  readonly features: readonly QapiFeature[];
}

export interface QapiEnumType extends QapiDefinitionBase {
  readonly kind: 'enum';
  readonly members: readonly QapiEnumMember[];
  readonly prefix: string | undefined;
}

export interface QapiArrayType extends QapiDefinitionBase {
  readonly kind: 'array';
  readonly elementType: QapiType;
}

export interface QapiObjectMember {
  readonly name: string;
  readonly type: QapiType;
  readonly optional: boolean;
  readonly ifcond: QapiIfCond | undefined;
  readonly features: readonly QapiFeature[];
  readonly info: QapiSourceInfo | undefined;
}

export interface QapiVariant {
  /** The discriminator value (union) or the branch name (alternate). */
  readonly name: string;
  readonly type: QapiType;
  readonly ifcond: QapiIfCond | undefined;
  readonly info: QapiSourceInfo | undefined;
}

export interface QapiObjectType extends QapiDefinitionBase {
  readonly kind: 'object';
  readonly base: QapiObjectType | undefined;
  /** Members declared here, excluding the base's. */
  readonly localMembers: readonly QapiObjectMember[];
  /** Base members first (recursively), then local members: the wire order. */
  readonly members: readonly QapiObjectMember[];
  /**
   * Present for unions. `tagMember` is one of `members`; every value of its
   * enum has a variant, values the schema left out get the empty type `q_empty`
   * (as QEMU does), in the enum's order.
   */
  readonly variants: { readonly tagMember: QapiObjectMember; readonly variants: readonly QapiVariant[] } | undefined;
}

export interface QapiAlternateType extends QapiDefinitionBase {
  readonly kind: 'alternate';
  /** Branches in schema order; each branch type differs in JSON type. */
  readonly variants: readonly QapiVariant[];
}

export type QapiType = QapiBuiltinType | QapiEnumType | QapiArrayType | QapiObjectType | QapiAlternateType;

export interface QapiCommand extends QapiDefinitionBase {
  readonly kind: 'command';
  /** Undefined when the command takes no arguments. An object type, or a union when boxed. */
  readonly argType: QapiObjectType | undefined;
  /** Undefined when the schema gives no `returns` (the reply is `{}`). */
  readonly retType: QapiType | undefined;
  readonly boxed: boolean;
  readonly allowOob: boolean;
  readonly allowPreconfig: boolean;
  readonly coroutine: boolean;
  /** `gen: false` in the schema: the marshaller is hand-written. */
  readonly gen: boolean;
  readonly successResponse: boolean;
}

export interface QapiEvent extends QapiDefinitionBase {
  readonly kind: 'event';
  readonly argType: QapiObjectType | undefined;
  readonly boxed: boolean;
}

export type QapiEntity = QapiType | QapiCommand | QapiEvent;

/** A free-form doc block (not attached to a definition), e.g. a `# = Heading`. */
export interface QapiFreeformDoc {
  readonly kind: 'freeform';
  readonly doc: QapiDoc;
}

export interface QapiSchema {
  /** Every entity, built-ins first, then in definition order (implicit types right before their user). */
  readonly entities: readonly QapiEntity[];
  /** Entities and free-form doc blocks in source order, for the reference docs. */
  readonly documentation: readonly (QapiEntity | QapiFreeformDoc)[];
  /** Case-sensitive lookup over all entities (types, commands and events share one namespace). */
  lookup(name: string): QapiEntity | undefined;
  /** Every file read, the main file first, in include order. */
  readonly files: readonly string[];
}
