import type { QapiDoc, QapiEntity, QapiFeature, QapiIfCond, QapiObjectMember, QapiSchema, QapiSourceInfo, QapiType, QapiVariant } from '../../src/qapi/model.js';

/**
 * A deterministic text dump of a resolved QAPI schema, for the golden
 * `good-*.out` files: every entity the schema defines (built-ins, their
 * arrays, `q_empty` and `QType` are the same in every schema and left
 * out), then every doc block in source order. One fact per line, so that a
 * change in the model shows as a small diff.
 */
export function dumpSchema(schema: QapiSchema): string {
  const out: string[] = [];
  out.push('files');
  for (const file of schema.files) out.push(`  ${file}`);
  for (const entity of schema.entities) {
    if (isPredefined(entity)) continue;
    dumpEntity(out, entity);
  }
  for (const item of schema.documentation) {
    if (item.kind === 'freeform') dumpDoc(out, item.doc);
    else if (item.doc !== undefined) dumpDoc(out, item.doc);
  }
  return `${out.join('\n')}\n`;
}

function isPredefined(entity: QapiEntity): boolean {
  return entity.info === undefined && (entity.kind === 'builtin' || entity.kind === 'array' || entity.name === 'q_empty');
}

function where(info: QapiSourceInfo | undefined): string {
  return info === undefined ? '' : ` @${info.file}:${info.line}`;
}

/** `A`, `all(A, B)`, `any(A, not(B))`. */
export function formatIfCond(cond: QapiIfCond): string {
  if (typeof cond === 'string') return cond;
  if ('all' in cond) return `all(${cond.all.map(formatIfCond).join(', ')})`;
  if ('any' in cond) return `any(${cond.any.map(formatIfCond).join(', ')})`;
  return `not(${formatIfCond(cond.not)})`;
}

function ifSuffix(cond: QapiIfCond | undefined): string {
  return cond === undefined ? '' : ` if ${formatIfCond(cond)}`;
}

function features(out: string[], list: readonly QapiFeature[], indent: string): void {
  for (const f of list) out.push(`${indent}feature ${f.name}${ifSuffix(f.ifcond)}`);
}

function typeName(type: QapiType): string {
  return type.name;
}

function member(m: QapiObjectMember): string {
  return `${m.name}: ${typeName(m.type)}${m.optional ? ' optional' : ''}${ifSuffix(m.ifcond)}`;
}

function variant(v: QapiVariant): string {
  return `case ${v.name}: ${typeName(v.type)}${ifSuffix(v.ifcond)}`;
}

function header(entity: QapiEntity, text: string): string {
  return `${text}${entity.implicit ? ' implicit' : ''}${ifSuffix(entity.ifcond)}${where(entity.info)}`;
}

function dumpEntity(out: string[], entity: QapiEntity): void {
  switch (entity.kind) {
    case 'builtin':
      out.push(header(entity, `builtin ${entity.name} json=${entity.jsonType}`));
      break;
    case 'enum':
      out.push(header(entity, `enum ${entity.name}`));
      if (entity.prefix !== undefined) out.push(`  prefix ${entity.prefix}`);
      for (const m of entity.members) {
        out.push(`  value ${m.name}${ifSuffix(m.ifcond)}`);
        features(out, m.features, '    ');
      }
      break;
    case 'array':
      out.push(header(entity, `array ${entity.name} of ${typeName(entity.elementType)}`));
      break;
    case 'object':
      out.push(header(entity, `object ${entity.name}`));
      if (entity.base !== undefined) out.push(`  base ${entity.base.name}`);
      for (const m of entity.localMembers) {
        out.push(`  member ${member(m)}`);
        features(out, m.features, '    ');
      }
      if (entity.base !== undefined) out.push(`  all members: ${entity.members.map((m) => m.name).join(', ')}`);
      if (entity.variants !== undefined) {
        out.push(`  tag ${entity.variants.tagMember.name}`);
        for (const v of entity.variants.variants) out.push(`  ${variant(v)}`);
      }
      break;
    case 'alternate':
      out.push(header(entity, `alternate ${entity.name}`));
      for (const v of entity.variants) out.push(`  ${variant(v)}`);
      break;
    case 'command': {
      const flags = [
        entity.boxed ? 'boxed' : '',
        entity.allowOob ? 'allow-oob' : '',
        entity.allowPreconfig ? 'allow-preconfig' : '',
        entity.coroutine ? 'coroutine' : '',
        entity.gen ? '' : 'gen=false',
        entity.successResponse ? '' : 'success-response=false',
      ].filter((f) => f !== '');
      out.push(header(entity, `command ${entity.name}`));
      out.push(`  args ${entity.argType?.name ?? '-'}`);
      out.push(`  returns ${entity.retType?.name ?? '-'}`);
      if (flags.length > 0) out.push(`  flags ${flags.join(' ')}`);
      break;
    }
    case 'event':
      out.push(header(entity, `event ${entity.name}`));
      out.push(`  args ${entity.argType?.name ?? '-'}`);
      if (entity.boxed) out.push('  flags boxed');
      break;
  }
  features(out, entity.features, '  ');
}

/** Multi-line text, each line behind `|` so that leading blanks stay visible. */
function text(out: string[], label: string, value: string): void {
  out.push(`  ${label}`);
  if (value === '') return;
  for (const line of value.split('\n')) out.push(`    |${line}`);
}

function dumpDoc(out: string[], doc: QapiDoc): void {
  out.push(`doc ${doc.symbol ?? '(free-form)'}${where(doc.info)}`);
  text(out, 'body', doc.body);
  for (const [name, value] of doc.args) text(out, `arg @${name}`, value);
  for (const [name, value] of doc.features) text(out, `feature @${name}`, value);
  for (const section of doc.sections) text(out, section.tag === undefined ? 'section (untagged)' : `section ${section.tag}`, section.text);
}
