import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A real Linux guest for console tests: Debian's cloud kernel booted under
 * TCG with a tiny initramfs (static busybox, the virtio console modules,
 * and an /init that loads them, prints a marker and runs a shell on the
 * serial console). Boots in about three seconds on the development
 * machine; building the initramfs takes a few milliseconds.
 */

/** What /init prints once the guest is up, just before its shell starts. */
export const GUEST_READY = 'CHARDEVD-GUEST-READY';

/** busybox-static's path (Debian 12 has /bin and /usr/bin merged or not, depending on the install). */
const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((path) => existsSync(path) && isStatic(path));

/** The modules the virtio console needs, each after those it depends on (modinfo -F depends). */
export const CONSOLE_MODULES = ['virtio_ring', 'virtio', 'virtio_pci_legacy_dev', 'virtio_pci_modern_dev', 'virtio_pci', 'virtio_console'];

/** The cloud kernel's image, if installed (package linux-image-cloud-amd64). */
function kernelImage(): string | undefined {
  if (!existsSync('/boot')) return undefined;
  const images = readdirSync('/boot')
    .filter((name) => /^vmlinuz-.*-cloud-amd64$/.test(name))
    .sort();
  return images.length === 0 ? undefined : join('/boot', images.at(-1)!);
}

/** A statically linked ELF has no PT_INTERP program header: the initramfs has no dynamic loader. */
function isStatic(path: string): boolean {
  const elf = readFileSync(path);
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (elf.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}

/** The kernel's console modules in load order (.ko, .ko.xz or .ko.zst), or undefined when one is missing. */
function consoleModules(kernel: string): string[] | undefined {
  const root = join('/lib/modules', kernel.replace(/^.*\/vmlinuz-/, ''), 'kernel');
  if (!existsSync(root)) return undefined;
  const found = new Map<string, string>();
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) stack.push(join(dir, entry.name));
      else {
        const name = /^(.*)\.ko(?:\.xz|\.zst)?$/.exec(entry.name)?.[1];
        if (name !== undefined && CONSOLE_MODULES.includes(name)) found.set(name, join(dir, entry.name));
      }
    }
  }
  const paths = CONSOLE_MODULES.map((name) => found.get(name));
  return paths.every((path): path is string => path !== undefined) ? paths : undefined;
}

/** A module file's contents, decompressed: busybox's insmod takes plain .ko files. */
function moduleBytes(path: string): Buffer {
  if (path.endsWith('.ko')) return readFileSync(path);
  const tool = path.endsWith('.xz') ? 'xz' : 'zstd';
  const result = spawnSync(tool, ['-dc', path], { maxBuffer: 64 << 20, timeout: 10_000 });
  if (result.status !== 0) throw new Error(`${tool} -dc ${path} failed: ${result.stderr?.toString() ?? String(result.error)}`);
  return result.stdout;
}

/** Why guest tests cannot run here, or undefined when they can. */
export function guestSkipReason(): string | undefined {
  if (spawnSync('qemu-system-x86_64', ['--version']).status !== 0) return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  if (kernelImage() === undefined) return 'no /boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64)';
  // busybox-static's: the initramfs has no libraries for a dynamically linked one.
  if (BUSYBOX === undefined) return 'no static busybox in /usr/bin or /bin (apt-get install busybox-static)';
  const modules = consoleModules(kernelImage()!);
  if (modules === undefined) return 'the cloud kernel has no virtio console modules (apt-get install linux-image-cloud-amd64)';
  const compressed = modules.find((path) => (path.endsWith('.xz') && !onPath('xz')) || (path.endsWith('.zst') && !onPath('zstd')));
  if (compressed !== undefined) return `${compressed} is compressed and ${compressed.endsWith('.xz') ? 'xz' : 'zstd'} is not installed`;
  return undefined;
}

function onPath(command: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, command)));
}

/**
 * The guest's /init: loads the console modules (a failure shows on the
 * console as insmod's message), prints the marker, runs a shell with the
 * console as its controlling terminal, and powers off when the shell
 * exits, so that QEMU (with -no-reboot) ends with status 0.
 */
const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /bin /sbin /usr/bin /usr/sbin /tmp
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
${CONSOLE_MODULES.map((name) => `insmod /lib/modules/${name}.ko`).join('\n')}
echo ${GUEST_READY}
setsid cttyhack sh
poweroff -f
`;

/** One entry of a cpio "newc" archive, the format the kernel unpacks as an initramfs. */
interface CpioEntry {
  readonly name: string;
  readonly mode: number;
  readonly data?: Buffer;
  /** Device number of a character device node. */
  readonly rdev?: { readonly major: number; readonly minor: number };
}

function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const pad4 = (length: number): Buffer => Buffer.alloc((4 - (length % 4)) % 4);
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  [...entries, { name: 'TRAILER!!!', mode: 0 }].forEach((entry, index) => {
    const data = entry.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${entry.name}\0`);
    const fields = [index + 1, entry.mode, 0, 0, 1, 0, data.length, 0, 0, entry.rdev?.major ?? 0, entry.rdev?.minor ?? 0, name.length, 0];
    const header = Buffer.from(`070701${fields.map(hex).join('')}`);
    parts.push(header, name, pad4(header.length + name.length), data, pad4(data.length));
  });
  return Buffer.concat(parts);
}

/** A program a test adds to the initramfs, under /bin. */
export interface GuestProgram {
  readonly name: string;
  readonly data: Buffer;
}

/**
 * Writes the initramfs into `dir` and returns its path. The console
 * device node is in the archive itself, so the kernel can give /init its
 * console before devtmpfs is mounted, and building needs no root.
 * `programs` go to /bin (statically linked: the initramfs has no libraries).
 */
export function buildInitramfs(dir: string, programs: readonly GuestProgram[] = []): string {
  const S_IFDIR = 0o040000;
  const S_IFREG = 0o100000;
  const S_IFCHR = 0o020000;
  const kernel = kernelImage();
  const modules = kernel === undefined ? undefined : consoleModules(kernel);
  if (BUSYBOX === undefined || modules === undefined) throw new Error(guestSkipReason() ?? 'guest files missing');
  const archive = cpioNewc([
    { name: 'bin', mode: S_IFDIR | 0o755 },
    { name: 'dev', mode: S_IFDIR | 0o755 },
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: { major: 5, minor: 1 } },
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: readFileSync(BUSYBOX) },
    { name: 'lib', mode: S_IFDIR | 0o755 },
    { name: 'lib/modules', mode: S_IFDIR | 0o755 },
    ...modules.map((path, i) => ({ name: `lib/modules/${CONSOLE_MODULES[i]}.ko`, mode: S_IFREG | 0o644, data: moduleBytes(path) })),
    { name: 'init', mode: S_IFREG | 0o755, data: Buffer.from(INIT) },
    ...programs.map((program) => ({ name: `bin/${program.name}`, mode: S_IFREG | 0o755, data: program.data })),
  ]);
  const path = join(dir, 'initramfs.cpio');
  writeFileSync(path, archive);
  return path;
}

export interface Guest {
  readonly process: ChildProcess;
  /** QEMU's stderr so far. */
  stderr(): string;
  readonly exited: Promise<number | null>;
  /** Ends QEMU (SIGTERM, then SIGKILL after a bound). */
  stop(): Promise<void>;
}

/**
 * Boots the guest with its serial port (ttyS0, the console) on the chardev
 * `serialChardev`, a QEMU -chardev value with id `serial0`, such as
 * `socket,id=serial0,path=/run/x.sock`. `extraArgs` go to QEMU as well
 * (a QMP socket, virtio-serial ports); `programs` go to the guest's /bin.
 */
export function bootGuest(dir: string, serialChardev: string, extraArgs: readonly string[] = [], programs: readonly GuestProgram[] = []): Guest {
  const kernel = kernelImage();
  if (kernel === undefined) throw new Error('no cloud kernel installed');
  const initrd = buildInitramfs(dir, programs);
  const child = spawn(
    'qemu-system-x86_64',
    [
      ...['-accel', 'tcg', '-cpu', 'max', '-m', '256', '-smp', '1', '-nodefaults', '-display', 'none', '-no-reboot'],
      ...['-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 quiet panic=-1'],
      ...['-chardev', serialChardev, '-serial', 'chardev:serial0'],
      ...extraArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    stderr: () => stderr,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
