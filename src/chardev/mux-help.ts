/** How QEMU's help names the escape key: `C-a` for a control letter, else `Escape-Char` (char-mux.c mux_print_help). */
function escapeKeyName(escape: number): string {
  return escape > 0 && escape < 26 ? `C-${String.fromCharCode(escape - 1 + 'a'.charCodeAt(0))}` : 'Escape-Char';
}

/**
 * What chardevd prints for the escape key then x, where QEMU prints
 * "QEMU: Terminated" and quits: the daemon serves every other chardev and
 * connection, so one terminal's escape key must not stop it. The user
 * leaves by closing their own connection.
 */
export function muxExitIgnoredText(escape: number): string {
  return `chardevd: ${escapeKeyName(escape)} x ignored, chardevd keeps running (close your connection to leave)\n\r`;
}

/** QEMU's help lines (char-mux.c mux_help); `%` stands for the escape key's name. */
const HELP_LINES = [
  '% h    print this help\n\r',
  '% x    exit emulator\n\r',
  '% s    save disk data back to file (if -snapshot)\n\r',
  '% t    toggle console timestamps\n\r',
  '% b    send break (magic sysrq)\n\r',
  '% c    switch between console and monitor\n\r',
  '% %  sends %\n\r',
];

/** The help text QEMU 7.2 prints for C-a h and C-a ?, for an escape character `escape`. */
export function muxHelpText(escape: number): string {
  const name = escapeKeyName(escape);
  // QEMU prints the int with %02x: a negative one as its 32-bit pattern.
  const header = name === 'Escape-Char' ? `\n\rEscape-Char set to Ascii: 0x${(escape >>> 0).toString(16).padStart(2, '0')}\n\r\n\r` : '\n\r';
  return header + HELP_LINES.map((line) => line.replaceAll('%', name)).join('');
}
