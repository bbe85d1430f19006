import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DocBlock, parseDocBlock, type RawDocLine } from './doc-comment.js';
import { QapiSchemaError } from './error.js';
import type { QapiSourceInfo } from './model.js';

/**
 * The QAPI schema language's syntax: a sequence of JSON-like top-level
 * objects with `#` comments, single-quoted strings, `true`/`false` and no
 * numbers or null (QEMU's QAPISchemaParser, scripts/qapi/parser.py).
 * Directives `include` and `pragma` are executed here; definitions are
 * returned as raw values for expr.ts to check.
 */

/** A value of the schema language. Objects keep their key order (a Map, so any key is safe). */
export type QapiValue = string | boolean | readonly QapiValue[] | QapiObjectValue;
export type QapiObjectValue = ReadonlyMap<string, QapiValue>;

export function isObjectValue(value: QapiValue | undefined): value is QapiObjectValue {
  return value instanceof Map;
}

export function isArrayValue(value: QapiValue | undefined): value is readonly QapiValue[] {
  return Array.isArray(value);
}

/** The `pragma` directive's settings. One set for the whole schema, as in QEMU. */
export interface QapiPragma {
  docRequired: boolean;
  commandNameExceptions: readonly string[];
  commandReturnsExceptions: readonly string[];
  documentationExceptions: readonly string[];
  memberNameExceptions: readonly string[];
}

/** A definition (enum, struct, ...) with its location and doc comment. */
export interface ParsedExpr {
  readonly kind: 'expr';
  readonly expr: QapiObjectValue;
  readonly info: QapiSourceInfo;
  readonly doc: DocBlock | undefined;
}

/** A doc block not attached to a definition, e.g. a `# = Heading`. */
export interface ParsedFreeform {
  readonly kind: 'freeform';
  readonly doc: DocBlock;
}

export interface ParsedSchemaSource {
  /** Definitions and free-form doc blocks in source order, included files inlined at their first include. */
  readonly items: readonly (ParsedExpr | ParsedFreeform)[];
  /** Every doc block, in source order. */
  readonly docs: readonly DocBlock[];
  /** Every file read, the main file first. */
  readonly files: readonly string[];
  readonly pragma: QapiPragma;
}

export interface ParseSourceOptions {
  /** Directory relative paths are read from; the paths in messages stay as given. Default: process.cwd(). */
  readonly cwd?: string;
  /**
   * Which generation of QEMU's rules to follow (see ParseSchemaOptions).
   * Here it decides one doc comment detail: whether a tag line such as
   * `Returns:` inside a paragraph starts a section ('legacy', QEMU <= 9.0)
   * or is text ('current', QEMU 9.1+).
   */
  readonly rules?: 'current' | 'legacy';
}

/** Reads the main file and everything it includes. Throws QapiSchemaError on the first error. */
export function parseSchemaSource(mainFile: string, options: ParseSourceOptions = {}): ParsedSchemaSource {
  const cwd = options.cwd ?? process.cwd();
  const state: ParseState = {
    cwd,
    legacy: options.rules === 'legacy',
    items: [],
    docs: [],
    files: [],
    included: new Set(),
    pragma: {
      docRequired: false,
      commandNameExceptions: [],
      commandReturnsExceptions: [],
      documentationExceptions: [],
      memberNameExceptions: [],
    },
  };
  let src: string;
  try {
    src = readFileSync(resolve(cwd, mainFile), 'utf8');
  } catch (error: unknown) {
    throw new QapiSchemaError(undefined, `can't read schema file '${mainFile}': ${strerror(error)}`);
  }
  new FileParser(state, mainFile, src, []).parse();
  return { items: state.items, docs: state.docs, files: state.files, pragma: state.pragma };
}

interface ParseState {
  readonly cwd: string;
  readonly legacy: boolean;
  readonly items: (ParsedExpr | ParsedFreeform)[];
  readonly docs: DocBlock[];
  readonly files: string[];
  /** Absolute paths already read: a second include of a file does nothing. */
  readonly included: Set<string>;
  readonly pragma: QapiPragma;
}

/** The text of an errno, as Python's OSError.strerror gives it in QEMU's messages. */
function strerror(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const texts: { readonly [code: string]: string } = {
    ENOENT: 'No such file or directory',
    EISDIR: 'Is a directory',
    EACCES: 'Permission denied',
    ENOTDIR: 'Not a directory',
    ELOOP: 'Too many levels of symbolic links',
  };
  const text = texts[code];
  if (text !== undefined) return text;
  return error instanceof Error ? error.message : String(error);
}

// Python's str.isspace() for the characters a schema plausibly holds.
const SPACE = /\s/;
// QEMU shows a stray word up to the next structural, space or quote character.
const STRAY = /[^[\]{}:,\s']+/y;

type Token = '{' | '}' | ':' | ',' | '[' | ']' | "'" | 't' | 'f' | '#' | null;

class FileParser {
  readonly #state: ParseState;
  readonly #file: string;
  readonly #src: string;
  /** Absolute paths of the files including this one, this one last: include loops. */
  readonly #stack: readonly string[];
  #line = 1;
  #lineStart = 0;
  #cursor = 0;
  #pos = 0;
  #tok: Token = null;
  #val: string | boolean | undefined = undefined;

  constructor(state: ParseState, file: string, src: string, parents: readonly string[]) {
    this.#state = state;
    this.#file = file;
    // QEMU appends a newline when the last line lacks one.
    this.#src = src === '' || !src.endsWith('\n') ? `${src}\n` : src;
    const abs = resolve(state.cwd, file);
    this.#stack = [...parents, abs];
    state.included.add(abs);
    state.files.push(file);
  }

  /** The current token; a method so that type narrowing does not outlive #accept(). */
  #token(): Token {
    return this.#tok;
  }

  #info(): QapiSourceInfo {
    return { file: this.#file, line: this.#line };
  }

  #error(message: string): QapiSchemaError {
    // 1-based column with tab stops every 8 columns, as QEMU's
    // QAPIParseError reports it (QEMU's own tab arithmetic is off by a stop).
    let col = 1;
    for (let i = this.#lineStart; i < this.#pos; i++) col = this.#src[i] === '\t' ? (Math.floor((col - 1) / 8) + 1) * 8 + 1 : col + 1;
    return new QapiSchemaError(this.#info(), message, col);
  }

  parse(): void {
    const state = this.#state;
    let curDoc: DocBlock | undefined;
    this.#accept();
    while (this.#token() !== null) {
      const info = this.#info();
      if (this.#token() === '#') {
        rejectExprDoc(curDoc);
        const blocks = this.#getDoc(info);
        for (const block of blocks) {
          state.docs.push(block);
          if (block.symbol === undefined) state.items.push({ kind: 'freeform', doc: block });
        }
        curDoc = blocks[blocks.length - 1];
        continue;
      }
      const expr = this.#getExpr();
      if (!isObjectValue(expr)) throw new QapiSchemaError(info, 'top-level expression must be an object');
      if (expr.has('include')) {
        rejectExprDoc(curDoc);
        this.#include(expr, info);
      } else if (expr.has('pragma')) {
        rejectExprDoc(curDoc);
        this.#pragma(expr, info);
      } else {
        if (curDoc !== undefined && curDoc.symbol === undefined) {
          throw new QapiSchemaError(curDoc.info, 'definition documentation required');
        }
        state.items.push({ kind: 'expr', expr, info, doc: curDoc });
      }
      curDoc = undefined;
    }
    rejectExprDoc(curDoc);
  }

  #include(expr: QapiObjectValue, info: QapiSourceInfo): void {
    if (expr.size !== 1) throw new QapiSchemaError(info, "invalid 'include' directive");
    const include = expr.get('include');
    if (typeof include !== 'string') throw new QapiSchemaError(info, "value of 'include' must be a string");
    // Relative to the including file, as QEMU's os.path.join(dirname(fname), include).
    const file = join(dirname(this.#file), include);
    const abs = resolve(this.#state.cwd, file);
    if (this.#stack.includes(abs)) throw new QapiSchemaError(info, `inclusion loop for ${include}`);
    if (this.#state.included.has(abs)) return;
    let src: string;
    try {
      src = readFileSync(abs, 'utf8');
    } catch (error: unknown) {
      throw new QapiSchemaError(info, `can't read include file '${file}': ${strerror(error)}`);
    }
    new FileParser(this.#state, file, src, this.#stack).parse();
  }

  #pragma(expr: QapiObjectValue, info: QapiSourceInfo): void {
    if (expr.size !== 1) throw new QapiSchemaError(info, "invalid 'pragma' directive");
    const pragma = expr.get('pragma');
    if (!isObjectValue(pragma)) throw new QapiSchemaError(info, "value of 'pragma' must be an object");
    const target = this.#state.pragma;
    const listOfStrings = (name: string, value: QapiValue): readonly string[] => {
      if (!isArrayValue(value) || value.some((v) => typeof v !== 'string')) {
        throw new QapiSchemaError(info, `pragma ${name} must be a list of strings`);
      }
      return value.filter((v): v is string => typeof v === 'string');
    };
    for (const [name, value] of pragma) {
      switch (name) {
        case 'doc-required':
          if (typeof value !== 'boolean') throw new QapiSchemaError(info, "pragma 'doc-required' must be boolean");
          target.docRequired = value;
          break;
        case 'command-name-exceptions':
          target.commandNameExceptions = listOfStrings(name, value);
          break;
        case 'command-returns-exceptions':
          target.commandReturnsExceptions = listOfStrings(name, value);
          break;
        case 'documentation-exceptions':
          target.documentationExceptions = listOfStrings(name, value);
          break;
        case 'member-name-exceptions':
          target.memberNameExceptions = listOfStrings(name, value);
          break;
        default:
          throw new QapiSchemaError(info, `unknown pragma '${name}'`);
      }
    }
  }

  /**
   * Reads the next token into #tok/#val. Comments are skipped unless
   * `skipComment` is false or the comment starts a doc block (`##`).
   */
  #accept(skipComment = true): void {
    const src = this.#src;
    for (;;) {
      const ch = src[this.#cursor];
      this.#pos = this.#cursor;
      this.#cursor++;
      this.#val = undefined;
      if (ch === undefined) {
        // Only reachable on a file whose final newline the lexer already ate.
        this.#tok = null;
        return;
      }
      if (ch === '#') {
        let keep = !skipComment;
        if (src[this.#cursor] === '#') keep = true;
        const end = src.indexOf('\n', this.#cursor);
        this.#cursor = end;
        if (keep) {
          this.#tok = '#';
          this.#val = src.slice(this.#pos, end);
          return;
        }
        continue;
      }
      if (ch === '{' || ch === '}' || ch === ':' || ch === ',' || ch === '[' || ch === ']') {
        this.#tok = ch;
        return;
      }
      if (ch === "'") {
        this.#tok = "'";
        this.#val = this.#string();
        return;
      }
      if (src.startsWith('true', this.#pos)) {
        this.#tok = 't';
        this.#val = true;
        this.#cursor += 3;
        return;
      }
      if (src.startsWith('false', this.#pos)) {
        this.#tok = 'f';
        this.#val = false;
        this.#cursor += 4;
        return;
      }
      if (ch === '\n') {
        if (this.#cursor === src.length) {
          this.#tok = null;
          return;
        }
        this.#line++;
        this.#lineStart = this.#cursor;
        continue;
      }
      if (!SPACE.test(ch)) {
        STRAY.lastIndex = this.#pos;
        const word = STRAY.exec(src)?.[0] ?? ch;
        this.#tok = null;
        throw this.#error(`stray '${word}'`);
      }
    }
  }

  /** A single-quoted string: printable ASCII, `\\` the only escape (QEMU has no use for others). */
  #string(): string {
    const src = this.#src;
    let out = '';
    let escaped = false;
    for (;;) {
      const ch = src[this.#cursor]!;
      this.#cursor++;
      if (ch === '\n') throw this.#error('missing terminating "\'"');
      if (escaped) {
        if (ch !== '\\') throw this.#error(`unknown escape \\${ch}`);
        escaped = false;
      } else if (ch === '\\') {
        escaped = true;
        continue;
      } else if (ch === "'") {
        return out;
      }
      const code = ch.charCodeAt(0);
      if (code < 32 || code >= 127) throw this.#error('funny character in string');
      out += ch;
    }
  }

  #getMembers(): QapiObjectValue {
    const members = new Map<string, QapiValue>();
    if (this.#token() === '}') {
      this.#accept();
      return members;
    }
    if (this.#token() !== "'") throw this.#error("expected string or '}'");
    for (;;) {
      const key = this.#val as string;
      this.#accept();
      if (this.#token() !== ':') throw this.#error("expected ':'");
      this.#accept();
      if (members.has(key)) throw this.#error(`duplicate key '${key}'`);
      members.set(key, this.#getExpr());
      if (this.#token() === '}') {
        this.#accept();
        return members;
      }
      if (this.#token() !== ',') throw this.#error("expected ',' or '}'");
      this.#accept();
      if (this.#token() !== "'") throw this.#error('expected string');
    }
  }

  #getValues(): QapiValue[] {
    const values: QapiValue[] = [];
    if (this.#token() === ']') {
      this.#accept();
      return values;
    }
    if (this.#token() !== '{' && this.#token() !== '[' && this.#token() !== "'" && this.#token() !== 't' && this.#token() !== 'f') {
      throw this.#error("expected '{', '[', ']', string, or boolean");
    }
    for (;;) {
      values.push(this.#getExpr());
      if (this.#token() === ']') {
        this.#accept();
        return values;
      }
      if (this.#token() !== ',') throw this.#error("expected ',' or ']'");
      this.#accept();
    }
  }

  #getExpr(): QapiValue {
    if (this.#token() === '{') {
      this.#accept();
      return this.#getMembers();
    }
    if (this.#token() === '[') {
      this.#accept();
      return this.#getValues();
    }
    if (this.#token() === "'" || this.#token() === 't' || this.#token() === 'f') {
      const value = this.#val as string | boolean;
      this.#accept();
      return value;
    }
    throw this.#error("expected '{', '[', string, or boolean");
  }

  /** Collects a doc block's lines up to its closing `##` and parses them. */
  #getDoc(info: QapiSourceInfo): DocBlock[] {
    if (this.#val !== '##') throw this.#error("junk after '##' at start of documentation comment");
    const lines: RawDocLine[] = [];
    for (;;) {
      this.#accept(false);
      if (this.#token() !== '#') throw this.#error("documentation comment must end with '##'");
      const text = this.#val as string;
      if (text.startsWith('##')) {
        if (text !== '##') throw this.#error("junk after '##' at end of documentation comment");
        break;
      }
      lines.push({ text, info: this.#info() });
    }
    const blocks = parseDocBlock(info, lines, this.#state.legacy);
    this.#accept();
    return blocks;
  }
}

function rejectExprDoc(doc: DocBlock | undefined): void {
  if (doc !== undefined && doc.symbol !== undefined) {
    throw new QapiSchemaError(doc.info, `documentation for '${doc.symbol}' is not followed by the definition`);
  }
}
