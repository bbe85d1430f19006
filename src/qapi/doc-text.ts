import type { QapiDoc, QapiFeature } from './model.js';

/** The text of a definition's doc block for a JSDoc comment: body, then tagged sections. */
export function docText(doc: QapiDoc | undefined, features: readonly QapiFeature[] = []): string {
  const parts: string[] = [];
  if (doc !== undefined) {
    if (doc.body.trim() !== '') parts.push(doc.body.trim());
    for (const section of doc.sections) {
      const text = section.text.trim();
      if (text === '') continue;
      parts.push(section.tag === undefined ? text : `${section.tag}: ${text}`);
    }
  }
  parts.push(...featureTags(features, doc));
  return parts.join('\n\n');
}

/** A member's description from its owner's doc block, with its feature tags. */
export function memberDocText(doc: QapiDoc | undefined, name: string, features: readonly QapiFeature[] = []): string {
  const parts: string[] = [];
  const text = doc?.args.get(name)?.trim();
  if (text !== undefined && text !== '') parts.push(text);
  parts.push(...featureTags(features, undefined));
  return parts.join('\n\n');
}

/** `deprecated` becomes JSDoc's @deprecated so editors strike the name through; other features are named. */
function featureTags(features: readonly QapiFeature[], doc: QapiDoc | undefined): string[] {
  return features.map((f) => {
    const text = doc?.features.get(f.name)?.trim() ?? '';
    if (f.name === 'deprecated') return `@deprecated ${text}`.trimEnd();
    return `Feature \`${f.name}\`${text === '' ? '' : `: ${text}`}`;
  });
}
