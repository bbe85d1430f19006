/**
 * Whether a text meant for a user (a QMP error's desc, an error message,
 * the daemon's stderr) shows the implementation instead: a stack frame, a
 * file of the daemon, a JavaScript error name or a value JavaScript makes
 * of a mistake. A pattern that occurs in the input is not counted: QEMU's
 * texts quote what they refuse ("The command TypeError has not been found").
 */
const LEAKS: readonly RegExp[] = [
  /^\s+at .+/m,
  /\bat (?:async )?[\w.<>$]+ \(/,
  /node:internal/,
  /file:\/\//,
  /\/(?:dist|src)\/[\w/-]+\.[jt]s\b/,
  /\.[jt]s:\d+(?::\d+)?\b/,
  /\b(?:Type|Range|Reference|Syntax|Eval|URI|Internal|Aggregate)Error\b/,
  /\bundefined\b/,
  /\bNaN\b/,
  /\[object \w+\]/,
  /Maximum call stack/,
  /Cannot read propert/,
  /is not a function/,
  /is not iterable/,
  /Invalid array length/,
  // Node's own argument checks (ERR_SOCKET_BAD_PORT: "Port should be >= 0 and < 65536. Received ...").
  /\bERR_[A-Z_]{4,}\b/,
  /\. Received (?:type|an instance|function)\b/,
];

/** Each pattern with the pattern that finds it in an input: without word boundaries, since input runs words together (`undefined0`). */
const QUOTED: readonly (readonly [RegExp, RegExp])[] = LEAKS.map((pattern) => [pattern, new RegExp(pattern.source.replaceAll('\\b', ''), pattern.flags)]);

/** The first part of `text` that leaks the implementation, or undefined; `input` is what the text may quote. */
export function internalLeak(text: string, input: string): string | undefined {
  for (const [pattern, inInput] of QUOTED) {
    const match = pattern.exec(text);
    if (match === null) continue;
    // Text the input holds itself is a quotation.
    if (inInput.test(input)) continue;
    return match[0];
  }
  return undefined;
}
