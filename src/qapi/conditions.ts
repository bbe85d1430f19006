import type { QapiIfCond } from './model.js';

/**
 * Which `if` conditions hold for the build being generated. QEMU evaluates
 * them with the C preprocessor; we take the set of defined symbols, or
 * 'all' to keep everything (bindings for a QEMU whose build options are
 * unknown).
 */
export type Defines = ReadonlySet<string> | 'all';

/** A condition string names a config symbol, e.g. 'CONFIG_POSIX' or 'defined(CONFIG_POSIX)'. */
function symbolOf(cond: string): string {
  const match = /^defined\((.*)\)$/.exec(cond);
  return match ? match[1]! : cond;
}

export function evalIfCond(cond: QapiIfCond | undefined, defines: Defines): boolean {
  if (cond === undefined || defines === 'all') return true;
  if (typeof cond === 'string') return defines.has(symbolOf(cond));
  if ('all' in cond) return cond.all.every((c) => evalIfCond(c, defines));
  if ('any' in cond) return cond.any.some((c) => evalIfCond(c, defines));
  return !evalIfCond(cond.not, defines);
}
