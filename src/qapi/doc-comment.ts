import { QapiSchemaError } from './error.js';
import type { QapiDoc, QapiSourceInfo } from './model.js';

/**
 * Doc comment blocks (`##` ... `##`): splits a block's lines into the body,
 * member and feature descriptions and tagged sections, the way QEMU's
 * QAPISchemaParser.get_doc() and QAPIDoc do (scripts/qapi/parser.py).
 *
 * QEMU's doc comment dialect changed over time and users point us at old
 * and new trees alike, so this reader accepts both:
 * - QEMU <= 9.0 style: `Note:`/`Notes:`/`Example:`/`Examples:` tagged
 *   sections that run until the next tag (examples are not indented), and
 *   free-form blocks holding several `# = Heading` parts (QEMU 7.2 splits
 *   such a block into one block per heading).
 * - QEMU >= 9.1 style: 4-space indented continuation lines, `Errors:`,
 *   rST directives (`.. qmp-example::`, `.. note::`) kept as plain text.
 */

/** One line of a doc block as the lexer saw it: the whole comment, `#` included. */
export interface RawDocLine {
  readonly text: string;
  readonly info: QapiSourceInfo;
}

type SectionKind = 'body' | 'plain' | 'member' | 'feature' | 'tagged';

/** A section under construction; `connected` is set when a schema member claims a description. */
export class DocSection {
  readonly kind: SectionKind;
  readonly info: QapiSourceInfo;
  /** Member/feature name, or the tag without its colon. */
  readonly name: string | undefined;
  /** Tagged sections that run until the next tag (QEMU <= 9.0 `Example:`/`Note:`). */
  readonly legacy: boolean;
  /** Text on the header line after `@name:` or `Tag:`. */
  readonly first: string | undefined;
  readonly lines: string[] = [];
  /** Indentation of continuation lines, fixed by the first indented one. */
  contIndent: number | undefined = undefined;
  connected = false;

  constructor(kind: SectionKind, info: QapiSourceInfo, name?: string, first?: string, legacy = false) {
    this.kind = kind;
    this.info = info;
    this.name = name;
    this.first = first === '' ? undefined : first;
    this.legacy = legacy;
  }

  /** True while the section holds nothing but blank lines. */
  get empty(): boolean {
    return this.first === undefined && this.lines.every((l) => l === '');
  }

  /** The section's text: continuation lines lose their common indentation, blank lines at either end go. */
  text(): string {
    let lines: string[];
    if (this.kind === 'body' || this.kind === 'plain') {
      lines = [...this.lines];
    } else {
      const indents = this.lines.filter((l) => l !== '').map(leadingSpaces);
      const cut = this.legacy || this.contIndent === undefined ? Math.min(...indents, Infinity) : this.contIndent;
      const dedented = this.lines.map((l) => (l === '' ? '' : l.slice(Number.isFinite(cut) ? cut : 0)));
      lines = this.first === undefined ? dedented : [this.first, ...dedented];
    }
    while (lines.length > 0 && lines[0] === '') lines.shift();
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines.join('\n');
  }
}

/** A parsed doc block, kept mutable until the schema has connected its members. */
export class DocBlock {
  readonly info: QapiSourceInfo;
  /** The definition documented (`@SYMBOL:` first line); undefined for free-form blocks. */
  readonly symbol: string | undefined;
  readonly body: DocSection;
  readonly args = new Map<string, DocSection>();
  readonly features = new Map<string, DocSection>();
  /** Tagged and untagged sections after the body, in order. */
  readonly sections: DocSection[] = [];
  #model: QapiDoc | undefined;

  constructor(info: QapiSourceInfo, symbol: string | undefined) {
    this.info = info;
    this.symbol = symbol;
    this.body = new DocSection('body', info);
  }

  section(tag: string): DocSection | undefined {
    return this.sections.find((s) => s.kind === 'tagged' && s.name === tag);
  }

  /** The immutable view the generators get. */
  toModel(): QapiDoc {
    if (this.#model === undefined) {
      const texts = (map: Map<string, DocSection>): ReadonlyMap<string, string> => new Map([...map].map(([name, section]) => [name, section.text()]));
      this.#model = {
        info: this.info,
        symbol: this.symbol,
        body: this.body.text(),
        args: texts(this.args),
        features: texts(this.features),
        sections: this.sections.map((s) => ({ tag: s.kind === 'tagged' ? s.name : undefined, text: s.text() })),
      };
    }
    return this.#model;
  }
}

// No blanks in the name: QEMU 7.2 reads '@id : text' as text, not as a description.
const AT_NAME = /^@([^:\s]*): */;
// `Tag::` is rST markup, not a section (QEMU >= 9.1 leaves it alone too).
const TAG = /^(Returns|Errors|Since|Notes?|Examples?|TODO)(?!::): */;
const LEGACY_TAG = /^(Notes?|Examples?)$/;
// QEMU rejects a second Returns/Errors/Since section; the others may repeat.
const UNIQUE_TAGS = new Set(['Returns', 'Errors', 'Since']);

function leadingSpaces(line: string): number {
  let n = 0;
  while (n < line.length && line[n] === ' ') n++;
  return n;
}

/** The comment text after `# ` (QEMU: "missing space after #"). */
function docLine(raw: RawDocLine): string {
  if (raw.text === '#') return '';
  if (raw.text[1] !== ' ') throw new QapiSchemaError(raw.info, 'missing space after #', 2);
  return raw.text.slice(2).trimEnd();
}

/**
 * Parses the lines between the opening and closing `##` of one block. A
 * free-form block with several `=` headings becomes several blocks.
 * `legacy` picks QEMU <= 9.0's reading where the two differ.
 */
export function parseDocBlock(info: QapiSourceInfo, raw: readonly RawDocLine[], legacy = false): DocBlock[] {
  const firstRaw = raw[0];
  const first = firstRaw === undefined ? undefined : docLine(firstRaw);
  if (firstRaw !== undefined && first !== undefined && first.startsWith('@')) {
    if (!first.endsWith(':')) throw new QapiSchemaError(firstRaw.info, "line should end with ':'", 1);
    const symbol = first.slice(1, -1);
    if (symbol === '') throw new QapiSchemaError(firstRaw.info, "name required after '@'", 1);
    return [new DefinitionDocReader(new DocBlock(info, symbol), legacy).read(raw.slice(1))];
  }
  return readFreeform(info, raw);
}

function readFreeform(info: QapiSourceInfo, raw: readonly RawDocLine[]): DocBlock[] {
  const blocks = [new DocBlock(info, undefined)];
  for (const rawLine of raw) {
    const line = docLine(rawLine);
    const at = AT_NAME.exec(line);
    if (at) throw new QapiSchemaError(rawLine.info, `'@${at[1]}:' not allowed in free-form documentation`, 1);
    let current = blocks[blocks.length - 1]!;
    // QEMU 7.2 starts a new free-form block at a heading that follows text
    // (its qapi-schema.json has two `=` headings in its first block);
    // QEMU >= 9.1 rejects that, we keep the older, more lenient reading.
    if (line.startsWith('=') && !current.body.empty) {
      current = new DocBlock(rawLine.info, undefined);
      blocks.push(current);
    }
    current.body.lines.push(line);
  }
  return blocks;
}

class DefinitionDocReader {
  readonly #doc: DocBlock;
  readonly #legacy: boolean;
  #current: DocSection;
  #prevBlank = false;
  /** A description may no longer start: a tagged section, features or a paragraph followed the descriptions. */
  #noMoreArgs = false;
  /** Between `Features:` and the first line that is not a feature description. */
  #inFeatures = false;
  /** Right after `Features:`, before its first description. */
  #expectFeature = false;

  constructor(doc: DocBlock, legacy: boolean) {
    this.#doc = doc;
    this.#legacy = legacy;
    this.#current = doc.body;
  }

  read(raw: readonly RawDocLine[]): DocBlock {
    for (const rawLine of raw) this.#line(docLine(rawLine), rawLine.info);
    if (this.#expectFeature) {
      const last = raw[raw.length - 1];
      throw new QapiSchemaError(last?.info ?? this.#doc.info, 'feature descriptions expected', 1);
    }
    for (const section of [...this.#doc.args.values(), ...this.#doc.features.values(), ...this.#doc.sections]) {
      if (section.kind !== 'plain' && section.text() === '') {
        const header = section.kind === 'tagged' ? `${section.name}:` : `@${section.name}:`;
        throw new QapiSchemaError(section.info, `text required after '${header}'`);
      }
    }
    return this.#doc;
  }

  #line(line: string, info: QapiSourceInfo): void {
    if (line === '') {
      if (!this.#expectFeature) this.#current.lines.push('');
      this.#prevBlank = true;
      return;
    }
    const consumed = this.#continues(line, info);
    if (!consumed) this.#startSection(line, info);
    this.#prevBlank = false;
  }

  /** Appends `line` to the current section when it continues it; false when it starts a new one. */
  #continues(line: string, info: QapiSourceInfo): boolean {
    const cur = this.#current;
    if (this.#expectFeature) return false;
    const indent = leadingSpaces(line);
    if (cur.kind === 'body' || cur.kind === 'plain') {
      // Within a paragraph QEMU 9.1+ reads a tag as text ("text.\n# Returns:
      // ..." stays in the paragraph), QEMU <= 9.0 as a new section. A
      // description starts one in both: QEMU 7.2's body text may run
      // straight into "@arg:".
      const sectionStart = TAG.test(line) || line === 'Features:' || line.startsWith('=');
      if (indent === 0 && (AT_NAME.test(line) || (sectionStart && (this.#prevBlank || this.#legacy || cur.empty)))) {
        return false;
      }
      cur.lines.push(line);
      return true;
    }
    if (indent === 0 && (AT_NAME.test(line) || TAG.test(line) || line === 'Features:' || line.startsWith('='))) {
      return false;
    }
    if (cur.legacy) {
      cur.lines.push(line);
      return true;
    }
    if (indent > 0) {
      if (cur.contIndent === undefined) cur.contIndent = indent;
      if (indent >= cur.contIndent) {
        cur.lines.push(line);
        return true;
      }
      if (this.#prevBlank) return false;
      throw new QapiSchemaError(info, `unexpected de-indent (expected at least ${cur.contIndent} spaces)`, 1);
    }
    // A line that is not indented.
    if (this.#prevBlank) return false;
    if (cur.contIndent === undefined && cur.empty) {
      // `@name:` alone, its text on the next lines without indentation
      // (QEMU <= 9.0 accepted that).
      cur.contIndent = 0;
    }
    if (cur.contIndent === 0) {
      cur.lines.push(line);
      return true;
    }
    if (cur.contIndent === undefined) return false;
    throw new QapiSchemaError(info, `unexpected de-indent (expected at least ${cur.contIndent} spaces)`, 1);
  }

  #startSection(line: string, info: QapiSourceInfo): void {
    const doc = this.#doc;
    if (line === 'Features:') {
      if (doc.features.size > 0 || this.#expectFeature) throw new QapiSchemaError(info, "duplicated 'Features:' line", 1);
      this.#expectFeature = true;
      this.#inFeatures = true;
      this.#noMoreArgs = true;
      return;
    }
    const at = AT_NAME.exec(line);
    if (at) {
      const name = at[1]!;
      const rest = line.slice(at[0].length);
      if (this.#inFeatures) {
        this.#expectFeature = false;
        this.#current = this.#describe(doc.features, name, rest, 'feature', info);
        return;
      }
      if (this.#noMoreArgs) throw new QapiSchemaError(info, `description of '@${name}:' follows a section`, 1);
      this.#current = this.#describe(doc.args, name, rest, 'member', info);
      return;
    }
    if (this.#expectFeature) throw new QapiSchemaError(info, 'feature descriptions expected', 1);
    this.#inFeatures = false;
    if (doc.args.size > 0) this.#noMoreArgs = true;
    const tag = TAG.exec(line);
    if (tag) {
      const name = tag[1]!;
      if (UNIQUE_TAGS.has(name) && doc.section(name) !== undefined) {
        throw new QapiSchemaError(info, `duplicated '${name}' section`);
      }
      const section = new DocSection('tagged', info, name, line.slice(tag[0].length), LEGACY_TAG.test(name));
      doc.sections.push(section);
      this.#current = section;
      this.#noMoreArgs = true;
      return;
    }
    if (line.startsWith('=')) throw new QapiSchemaError(info, "unexpected '=' markup in definition documentation", 1);
    // A plain paragraph: part of the body until something else started,
    // then an untagged section (consecutive paragraphs share one).
    const last = doc.sections[doc.sections.length - 1];
    if (doc.args.size === 0 && doc.features.size === 0 && doc.sections.length === 0) {
      this.#current = doc.body;
    } else if (last !== undefined && last.kind === 'plain' && this.#current === last) {
      this.#current = last;
    } else {
      const section = new DocSection('plain', info);
      doc.sections.push(section);
      this.#current = section;
    }
    this.#current.lines.push(line);
  }

  #describe(map: Map<string, DocSection>, name: string, rest: string, kind: 'member' | 'feature', info: QapiSourceInfo): DocSection {
    if (name === '') throw new QapiSchemaError(info, 'invalid parameter name');
    if (map.has(name)) throw new QapiSchemaError(info, `'${name}' parameter name duplicated`);
    const section = new DocSection(kind, info, name, rest);
    map.set(name, section);
    return section;
  }
}
