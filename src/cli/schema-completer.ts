/** A `query-qmp-schema` entry, as far as completion needs it. */
interface SchemaEntry {
  readonly name: string;
  readonly 'meta-type': string;
  readonly [member: string]: unknown;
}

/** How deep dotted argument names are offered (`backend.data.addr.data.path` is four dots). */
const MAX_DEPTH = 5;

/**
 * Completion for the shell, from the server's own introspection (so it
 * knows exactly the commands and arguments of that QEMU or chardevd):
 * command names for the first word, `key=` and dotted `a.b=` names after.
 * Union branches contribute the members of every branch.
 */
export class SchemaCompleter {
  readonly commands: readonly string[];
  readonly #arguments = new Map<string, readonly string[]>();
  readonly #types = new Map<string, SchemaEntry>();

  constructor(schema: readonly SchemaEntry[]) {
    for (const entry of schema) this.#types.set(entry.name, entry);
    const commands: string[] = [];
    for (const entry of schema) {
      if (entry['meta-type'] !== 'command') continue;
      commands.push(entry.name);
      const paths: string[] = [];
      this.#collect(String(entry['arg-type']), '', 0, paths, new Set());
      this.#arguments.set(entry.name, paths);
    }
    this.commands = commands.sort();
  }

  /** Argument names (dotted, without `=`) that a command takes. */
  argumentsOf(command: string): readonly string[] {
    return this.#arguments.get(command) ?? [];
  }

  /** readline's completer: [candidates, the part of the line they replace]. */
  complete(line: string): [string[], string] {
    const words = line.split(/\s+/);
    const current = words[words.length - 1] ?? '';
    if (words.length <= 1) return [this.commands.filter((c) => c.startsWith(current)), current];
    if (current.includes('=')) return [[], current];
    const given = new Set(words.slice(1, -1).map((w) => w.split('=')[0]));
    const candidates = this.argumentsOf(words[0]!)
      .filter((path) => path.startsWith(current) && !given.has(path))
      .map((path) => `${path}=`);
    return [candidates, current];
  }

  #collect(typeName: string, prefix: string, depth: number, out: string[], seen: Set<string>): void {
    const type = this.#types.get(typeName);
    if (type === undefined || type['meta-type'] !== 'object' || depth >= MAX_DEPTH || seen.has(typeName)) return;
    const inner = new Set(seen).add(typeName);
    for (const member of (type['members'] ?? []) as { name: string; type: string }[]) {
      const path = `${prefix}${member.name}`;
      if (!out.includes(path)) out.push(path);
      this.#collect(member.type, `${path}.`, depth + 1, out, inner);
    }
    for (const variant of (type['variants'] ?? []) as { type: string }[]) this.#collect(variant.type, prefix, depth, out, inner);
  }
}
