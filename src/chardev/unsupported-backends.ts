import type { ChardevVC } from '../generated/qapi-types.gen.js';
import type { ChardevBackendDefinition } from './backend-definition.js';
import { asCInt, parseCommon, parseHostdev } from './chardev-opts.js';

/**
 * The kinds QEMU 7.2 has that chardevd does not create: most belong to an
 * emulator's guest or display. Each parses as QEMU parses it, so that any
 * QEMU command line or request is read, and creating it fails with QEMU's
 * "'KIND' is not a valid char driver name" and the reason.
 */

/** `-chardev parallel,path=DEVICE` (chardev/char-parallel.c), also under its deprecated name `parport`. */
export const parallelBackend: ChardevBackendDefinition<'parallel'> = {
  kinds: ['parallel'],
  aliases: ['parport'],
  options: { path: 'str' },
  parse: (kind, opts) => ({ type: kind, data: parseHostdev(kind, opts) }),
  unsupported: 'parallel ports are not supported',
};

// No parse function in QEMU: qemu_chr_parse_opts fills only the common
// members. (QEMU labels that object with type "null" and takes the real
// kind from the class; the object here carries the real kind.)

export const msmouseBackend: ChardevBackendDefinition<'msmouse'> = {
  kinds: ['msmouse'],
  parse: (kind, opts) => ({ type: kind, data: parseCommon(opts) }),
  unsupported: 'it emulates a serial mouse for a guest',
};

export const wctabletBackend: ChardevBackendDefinition<'wctablet'> = {
  kinds: ['wctablet'],
  parse: (kind, opts) => ({ type: kind, data: parseCommon(opts) }),
  unsupported: 'it emulates a serial tablet for a guest',
};

export const brailleBackend: ChardevBackendDefinition<'braille'> = {
  kinds: ['braille'],
  parse: (kind, opts) => ({ type: kind, data: parseCommon(opts) }),
  unsupported: 'it drives a braille display through an emulator',
};

export const testdevBackend: ChardevBackendDefinition<'testdev'> = {
  kinds: ['testdev'],
  parse: (kind, opts) => ({ type: kind, data: parseCommon(opts) }),
  unsupported: 'it is a guest test device',
};

/** Windows only, so QEMU on Linux has no `-chardev console`; chardev-add can still name it. */
export const consoleBackend: ChardevBackendDefinition<'console'> = {
  kinds: ['console'],
  drivers: [],
  parse: (kind, opts) => ({ type: kind, data: parseCommon(opts) }),
  unsupported: 'it exists only on Windows',
};

/** `-chardev spicevmc,name=CHANNEL` (chardev/spice.c). */
export const spicevmcBackend: ChardevBackendDefinition<'spicevmc'> = {
  kinds: ['spicevmc'],
  options: { name: 'str' },
  parse(kind, opts) {
    const name = opts.get('name');
    if (name === undefined) throw opts.fail('chardev: spice channel: no name given');
    return { type: kind, data: { ...parseCommon(opts), type: name } };
  },
  unsupported: 'it is a channel of an emulator Spice display',
};

/** `-chardev spiceport,name=FQDN` (chardev/spice.c). */
export const spiceportBackend: ChardevBackendDefinition<'spiceport'> = {
  kinds: ['spiceport'],
  options: { name: 'str' },
  parse(kind, opts) {
    const name = opts.get('name');
    if (name === undefined) throw opts.fail('chardev: spice port: no name given');
    return { type: kind, data: { ...parseCommon(opts), fqdn: name } };
  },
  unsupported: 'it is a port of an emulator Spice display',
};

/** `-chardev qemu-vdagent` (ui/vdagent.c): both members explicit, mouse on and clipboard off by default. */
export const qemuVdagentBackend: ChardevBackendDefinition<'qemu-vdagent'> = {
  kinds: ['qemu-vdagent'],
  options: { mouse: 'bool', clipboard: 'bool' },
  parse: (kind, opts) => ({ type: kind, data: { ...parseCommon(opts), mouse: opts.getBool('mouse', true), clipboard: opts.getBool('clipboard', false) } }),
  unsupported: 'it is a Spice agent inside an emulator',
};

/** `-chardev dbus,name=NAME` (ui/dbus-chardev.c). */
export const dbusBackend: ChardevBackendDefinition<'dbus'> = {
  kinds: ['dbus'],
  options: { name: 'str' },
  parse(kind, opts) {
    const name = opts.get('name');
    if (name === undefined) throw opts.fail('chardev: dbus: no name given');
    return { type: kind, data: { ...parseCommon(opts), name } };
  },
  unsupported: 'it is a channel of an emulator D-Bus display',
};

/** `-chardev vc` (ui/console.c qemu_chr_parse_vc): each number through a C int, 0 meaning absent. */
export const vcBackend: ChardevBackendDefinition<'vc'> = {
  kinds: ['vc'],
  options: { width: 'num', height: 'num', cols: 'num', rows: 'num' },
  parse(kind, opts) {
    const data: ChardevVC = parseCommon(opts);
    for (const member of ['width', 'height', 'cols', 'rows'] as const) {
      const value = asCInt(opts.getUint(member, 0n));
      if (value !== 0) data[member] = value;
    }
    return { type: kind, data };
  },
  unsupported: 'it is a text console drawn on an emulator display',
};
