/**
 * QEMU's c_name() (scripts/qapi/common.py): the C identifier a QAPI name
 * becomes. We generate no C, but QEMU's naming and clash rules are defined
 * on it: `a-b` and `a_b` clash because both become `a_b`, and the `q_`
 * prefix is reserved because c_name() makes `q_int` out of a member `int`.
 */

// C89/C99/C11 keywords, GCC extensions, C++ keywords and names polluted by
// system headers: the words QEMU protects with a `q_` prefix.
const PROTECTED = new Set([
  'auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double', 'else', 'enum', 'extern',
  'float', 'for', 'goto', 'if', 'int', 'long', 'register', 'return', 'short', 'signed', 'sizeof', 'static',
  'struct', 'switch', 'typedef', 'union', 'unsigned', 'void', 'volatile', 'while',
  'inline', 'restrict', '_Bool', '_Complex', '_Imaginary',
  '_Alignas', '_Alignof', '_Atomic', '_Generic', '_Noreturn', '_Static_assert', '_Thread_local',
  'asm', 'typeof',
  'bool', 'catch', 'class', 'const_cast', 'delete', 'dynamic_cast', 'explicit', 'false', 'friend', 'mutable',
  'namespace', 'new', 'operator', 'private', 'protected', 'public', 'reinterpret_cast', 'static_cast',
  'template', 'this', 'throw', 'true', 'try', 'typeid', 'typename', 'using', 'virtual', 'wchar_t',
  'and', 'and_eq', 'bitand', 'bitor', 'compl', 'not', 'not_eq', 'or', 'or_eq', 'xor', 'xor_eq',
  'unix', 'errno', 'mips', 'sparc', 'i386', 'linux',
]);

export function cName(name: string, protect = true): string {
  const mapped = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (protect && (PROTECTED.has(mapped) || /^[0-9]/.test(mapped))) return `q_${mapped}`;
  return mapped;
}
