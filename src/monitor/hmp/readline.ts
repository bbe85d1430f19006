/**
 * The human monitor's line editor, after QEMU's util/readline.c: the same
 * keys, the same history rules and the same screen updates (the line is
 * redrawn with cursor-left moves, the text and "erase to end of line",
 * then the cursor is moved where it belongs), so a terminal or script
 * used with QEMU's monitor sees the same bytes.
 *
 * Keys: Left/Right (ESC [ D / C, Ctrl-B / Ctrl-F), Home/End (ESC [ H / F,
 * ESC O H / F, ESC [ 1~ / 4~, Ctrl-A / Ctrl-E), Backspace (DEL or Ctrl-H),
 * Delete (ESC [ 3~, Ctrl-D), Ctrl-K (delete to the end), Ctrl-U (delete
 * to the start), Ctrl-W (delete the word before the cursor), Up/Down
 * (ESC [ A / B, Ctrl-P / Ctrl-N) through the history, Tab completion,
 * Enter (CR or LF; the LF of a CR LF pair is one Enter, not two).
 */

/** QEMU's READLINE_CMD_BUF_SIZE: characters typed beyond this are dropped. */
export const MAX_LINE_CHARS = 4095;
/** QEMU's READLINE_MAX_CMDS: history entries kept per connection. */
export const MAX_HISTORY = 64;
/** QEMU's READLINE_MAX_COMPLETIONS. */
export const MAX_COMPLETIONS = 256;

const ESC = '\x1b';

export interface LineEditorHost {
  /** Screen output; lines end with "\n". */
  output(text: string): void;
  /** Completion candidates for the line up to the cursor, and where the word being completed starts. */
  complete(line: string): { start: number; candidates: string[] };
}

type EscapeState = 'normal' | 'esc' | 'csi' | 'ss3';

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

export class LineEditor {
  /** Oldest first. */
  readonly history: string[] = [];
  #line: string[] = [];
  #cursor = 0;
  #shown = '';
  #shownCursor = 0;
  /** Index into history while browsing it; -1 when editing a new line. */
  #historyEntry = -1;
  #escape: EscapeState = 'normal';
  #escapeParam = 0;
  #lastWasCr = false;
  /** Bytes of a UTF-8 sequence not yet complete. */
  #utf8: number[] = [];
  #utf8Needed = 0;
  /**
   * Redraw once per call of refresh() instead of after every byte. QEMU
   * redraws after every byte, which costs the length of the line per byte:
   * a pasted line of a few thousand characters would send megabytes. The
   * session sets this for large input chunks only, so typing looks exactly
   * as with QEMU.
   */
  deferUpdates = false;

  constructor(
    private readonly host: LineEditorHost,
    readonly prompt: string,
  ) {}

  /** The line being edited. */
  get text(): string {
    return this.#line.join('');
  }

  get cursor(): number {
    return this.#cursor;
  }

  /** Prints the prompt; the line is drawn anew after it (readline_show_prompt). */
  showPrompt(): void {
    this.host.output(this.prompt);
    this.#shown = '';
    this.#shownCursor = 0;
    this.#escape = 'normal';
  }

  /** Forgets the line being edited (readline_restart), e.g. when a new client connects. */
  restart(): void {
    this.#line = [];
    this.#cursor = 0;
    this.#utf8 = [];
    this.#utf8Needed = 0;
  }

  /** Handles one input byte; returns the line when it was Enter. */
  feed(byte: number): string | undefined {
    const wasCr = this.#lastWasCr;
    this.#lastWasCr = byte === 13;
    if (byte >= 0x80 || this.#utf8Needed > 0) {
      this.#feedUtf8(byte);
      if (!this.deferUpdates) this.#update();
      return undefined;
    }
    const line = this.#key(byte, wasCr);
    if (line === undefined && !this.deferUpdates) this.#update();
    return line;
  }

  /** Brings the screen up to date (after input fed with deferUpdates). */
  refresh(): void {
    this.#update();
  }

  #key(byte: number, afterCr: boolean): string | undefined {
    const ch = String.fromCharCode(byte);
    switch (this.#escape) {
      case 'esc':
        this.#escape = ch === '[' ? 'csi' : ch === 'O' ? 'ss3' : 'normal';
        this.#escapeParam = 0;
        return undefined;
      case 'csi':
        if (ch >= '0' && ch <= '9') {
          this.#escapeParam = this.#escapeParam * 10 + (byte - 48);
          return undefined;
        }
        this.#escape = 'normal';
        this.#csi(ch);
        return undefined;
      case 'ss3':
        this.#escape = 'normal';
        if (ch === 'H') this.#cursor = 0;
        else if (ch === 'F') this.#cursor = this.#line.length;
        return undefined;
      case 'normal':
        break;
    }
    switch (byte) {
      case 1: // Ctrl-A
        this.#cursor = 0;
        break;
      case 2: // Ctrl-B
        this.#backwardChar();
        break;
      case 4: // Ctrl-D
        this.#deleteChar();
        break;
      case 5: // Ctrl-E
        this.#cursor = this.#line.length;
        break;
      case 6: // Ctrl-F
        this.#forwardChar();
        break;
      case 8: // Ctrl-H
      case 127: // DEL, what Backspace sends
        if (this.#cursor > 0) {
          this.#cursor--;
          this.#deleteChar();
        }
        break;
      case 9:
        this.#update();
        this.#completion();
        break;
      case 10:
        if (afterCr) break;
        return this.#enter();
      case 13:
        return this.#enter();
      case 11: // Ctrl-K
        this.#line.splice(this.#cursor);
        break;
      case 14: // Ctrl-N
        this.#historyDown();
        break;
      case 16: // Ctrl-P
        this.#historyUp();
        break;
      case 21: // Ctrl-U
        this.#line.splice(0, this.#cursor);
        this.#cursor = 0;
        break;
      case 23: // Ctrl-W
        this.#backwardWord();
        break;
      case 27:
        this.#escape = 'esc';
        break;
      default:
        if (byte >= 32) this.#insert(ch);
    }
    return undefined;
  }

  #csi(ch: string): void {
    switch (ch) {
      case 'A':
        this.#historyUp();
        break;
      case 'B':
        this.#historyDown();
        break;
      case 'C':
        this.#forwardChar();
        break;
      case 'D':
        this.#backwardChar();
        break;
      case 'H':
        this.#cursor = 0;
        break;
      case 'F':
        this.#cursor = this.#line.length;
        break;
      case '~':
        if (this.#escapeParam === 1 || this.#escapeParam === 7) this.#cursor = 0;
        else if (this.#escapeParam === 3) this.#deleteChar();
        else if (this.#escapeParam === 4 || this.#escapeParam === 8) this.#cursor = this.#line.length;
        break;
      default:
        break;
    }
  }

  #feedUtf8(byte: number): void {
    if (this.#utf8Needed === 0) {
      // A lead byte says how many continuation bytes follow; anything else is dropped.
      const needed = byte >= 0xf0 && byte <= 0xf4 ? 3 : byte >= 0xe0 && byte <= 0xef ? 2 : byte >= 0xc2 && byte <= 0xdf ? 1 : 0;
      if (needed === 0) return;
      this.#utf8 = [byte];
      this.#utf8Needed = needed;
      return;
    }
    if ((byte & 0xc0) !== 0x80) {
      this.#utf8 = [];
      this.#utf8Needed = 0;
      if (byte < 0x80) {
        this.#key(byte, false);
        return;
      }
      this.#feedUtf8(byte);
      return;
    }
    this.#utf8.push(byte);
    if (--this.#utf8Needed > 0) return;
    const text = Buffer.from(this.#utf8).toString('utf8');
    this.#utf8 = [];
    if (!text.includes('\uFFFD')) this.#insert(text);
  }

  #insert(ch: string): void {
    if (this.#line.length >= MAX_LINE_CHARS) return;
    this.#line.splice(this.#cursor, 0, ch);
    this.#cursor++;
  }

  #backwardChar(): void {
    if (this.#cursor > 0) this.#cursor--;
  }

  #forwardChar(): void {
    if (this.#cursor < this.#line.length) this.#cursor++;
  }

  #deleteChar(): void {
    if (this.#cursor < this.#line.length) this.#line.splice(this.#cursor, 1);
  }

  /** readline_backword: spaces before the cursor, then the word before them. */
  #backwardWord(): void {
    if (this.#cursor === 0) return;
    let start = this.#cursor - 1;
    while (start > 0 && isSpace(this.#line[start])) start--;
    while (start > 0) {
      if (isSpace(this.#line[start])) {
        start++;
        break;
      }
      start--;
    }
    this.#line.splice(start, this.#cursor - start);
    this.#cursor = start;
  }

  #enter(): string {
    // The line as typed is on screen before the newline.
    this.#update();
    const line = this.text;
    this.#addHistory(line);
    this.host.output('\n');
    this.#line = [];
    this.#cursor = 0;
    this.#shown = '';
    this.#shownCursor = 0;
    return line;
  }

  /** readline_hist_add: a repeated line moves to the end instead of appearing twice. */
  #addHistory(line: string): void {
    if (line === '') return;
    const existing = this.history.indexOf(line);
    if (existing >= 0) this.history.splice(existing, 1);
    else if (this.history.length >= MAX_HISTORY) this.history.shift();
    this.history.push(line);
    this.#historyEntry = -1;
  }

  #historyUp(): void {
    if (this.#historyEntry === 0) return;
    if (this.#historyEntry === -1) this.#historyEntry = this.history.length;
    this.#historyEntry--;
    if (this.#historyEntry >= 0) this.#setLine(this.history[this.#historyEntry]!);
  }

  #historyDown(): void {
    if (this.#historyEntry === -1) return;
    this.#historyEntry++;
    if (this.#historyEntry < this.history.length) {
      this.#setLine(this.history[this.#historyEntry]!);
    } else {
      this.#historyEntry = -1;
      this.#setLine('');
    }
  }

  #setLine(text: string): void {
    this.#line = [...text].slice(0, MAX_LINE_CHARS);
    this.#cursor = this.#line.length;
  }

  /** readline_completion: one candidate is inserted with a space; several are listed in columns. */
  #completion(): void {
    const before = this.#line.slice(0, this.#cursor).join('');
    const { start, candidates: all } = this.host.complete(before);
    // QEMU lists them sorted (strcmp order).
    const candidates = all.slice(0, MAX_COMPLETIONS).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (candidates.length === 0) return;
    const typed = [...before.slice(start)].length;
    const chars = candidates.map((candidate) => [...candidate]);
    if (chars.length === 1) {
      const only = chars[0]!;
      for (const ch of only.slice(typed)) this.#insert(ch);
      if (only.length > 0 && only[only.length - 1] !== '/') this.#insert(' ');
      return;
    }
    this.host.output('\n');
    let common = chars[0]!.length;
    let width = 0;
    for (const candidate of chars) {
      let j = 0;
      while (j < common && j < candidate.length && candidate[j] === chars[0]![j]) j++;
      common = j;
      width = Math.max(width, candidate.length);
    }
    for (const ch of chars[0]!.slice(typed, common)) this.#insert(ch);
    width = Math.min(Math.max(width + 2, 10), 80);
    const columns = Math.floor(80 / width);
    let out = '';
    candidates.forEach((candidate, i) => {
      out += candidate.padEnd(width);
      if ((i + 1) % columns === 0 || i === candidates.length - 1) out += '\n';
    });
    this.host.output(out);
    this.showPrompt();
  }

  /** readline_update: redraw what changed, then put the cursor in place. */
  #update(): void {
    let out = '';
    const text = this.text;
    if (text !== this.#shown) {
      out += `${ESC}[D`.repeat(this.#shownCursor);
      out += `${text}${ESC}[K`;
      this.#shown = text;
      this.#shownCursor = this.#line.length;
    }
    if (this.#cursor !== this.#shownCursor) {
      const delta = this.#cursor - this.#shownCursor;
      out += (delta > 0 ? `${ESC}[C` : `${ESC}[D`).repeat(Math.abs(delta));
      this.#shownCursor = this.#cursor;
    }
    if (out !== '') this.host.output(out);
  }
}
