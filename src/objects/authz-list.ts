import type { AuthZListProperties } from '../generated/qapi-types.gen.js';
import type { Authz } from './authz.js';

/**
 * authz/list.c: the first rule whose match fits the identity decides;
 * without one, the list's policy (deny by default) does. An `exact` rule
 * compares whole strings, a `glob` rule matches as GLib's
 * g_pattern_match_simple: `*` any run of characters, `?` any one, and no
 * escapes or classes.
 */
export class AuthzList implements Authz {
  readonly qomType = 'authz-list';

  constructor(private readonly properties: AuthZListProperties) {}

  isAllowed(identity: string): boolean {
    for (const rule of this.properties.rules ?? []) {
      const matches = (rule.format ?? 'exact') === 'glob' ? globMatches(rule.match, identity) : rule.match === identity;
      if (matches) return rule.policy === 'allow';
    }
    return (this.properties.policy ?? 'deny') === 'allow';
  }
}

/**
 * g_pattern_match_simple over code points (GLib walks UTF-8 characters):
 * greedy with backtracking to the last `*`, linear in practice and never
 * worse than pattern length times text length.
 */
export function globMatches(pattern: string, text: string): boolean {
  const p = [...pattern];
  const t = [...text];
  let pi = 0;
  let ti = 0;
  let starAt = -1;
  let starText = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === t[ti]))) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      starAt = pi++;
      starText = ti;
    } else if (starAt >= 0) {
      pi = starAt + 1;
      ti = ++starText;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
