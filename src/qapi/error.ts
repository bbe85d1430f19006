import type { QapiSourceInfo } from './model.js';

/**
 * An error in a QAPI schema: syntax, shape or semantics. Printed as
 * `file:line: message`, the location format of QEMU's QAPISourceError
 * (scripts/qapi/error.py). QEMU adds `In file included from` and
 * `In <meta> '<name>':` context lines and, for lexical errors, a column;
 * we keep the column as a property but print the single line only.
 */
export class QapiSchemaError extends Error {
  /** Undefined only when the main schema file itself cannot be read. */
  readonly info: QapiSourceInfo | undefined;
  /** The message without its location. */
  readonly detail: string;
  /** 1-based column of the offending token, for syntax errors (QEMU's QAPIParseError). */
  readonly column: number | undefined;

  constructor(info: QapiSourceInfo | undefined, detail: string, column?: number) {
    super(info === undefined ? detail : `${info.file}:${info.line}: ${detail}`);
    this.name = 'QapiSchemaError';
    this.info = info;
    this.detail = detail;
    this.column = column;
  }

  override toString(): string {
    return this.message;
  }
}
