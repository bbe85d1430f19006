import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A real Linux guest for console tests: Debian's cloud kernel booted under
 * TCG with a tiny initramfs (static busybox and an /init that prints a
 * marker and runs a shell on the serial console). Boots in about three
 * seconds on the development machine.
 */

/** What /init prints once the guest is up, just before its shell starts. */
export const GUEST_READY = 'CHARDEVD-GUEST-READY';

const BUSYBOX = '/usr/bin/busybox';

/** The cloud kernel's image, if installed (package linux-image-cloud-amd64). */
function kernelImage(): string | undefined {
  if (!existsSync('/boot')) return undefined;
  const images = readdirSync('/boot').filter((name) => /^vmlinuz-.*-cloud-amd64$/.test(name)).sort();
  return images.length === 0 ? undefined : join('/boot', images.at(-1)!);
}

/** Why guest tests cannot run here, or undefined when they can. */
export function guestSkipReason(): string | undefined {
  if (spawnSync('qemu-system-x86_64', ['--version']).status !== 0) return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  if (kernelImage() === undefined) return 'no /boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64)';
  // busybox-static's: the initramfs has no libraries for a dynamically linked one.
  if (!existsSync(BUSYBOX)) return 'no busybox at /usr/bin/busybox (apt-get install busybox-static)';
  return undefined;
}

const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /bin /sbin /usr/bin /usr/sbin /tmp
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo ${GUEST_READY}
exec setsid cttyhack sh
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

/**
 * Writes the initramfs into `dir` and returns its path. The console
 * device node is in the archive itself, so the kernel can give /init its
 * console before devtmpfs is mounted, and building needs no root.
 */
export function buildInitramfs(dir: string): string {
  const S_IFDIR = 0o040000;
  const S_IFREG = 0o100000;
  const S_IFCHR = 0o020000;
  const archive = cpioNewc([
    { name: 'bin', mode: S_IFDIR | 0o755 },
    { name: 'dev', mode: S_IFDIR | 0o755 },
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: { major: 5, minor: 1 } },
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: readFileSync(BUSYBOX) },
    { name: 'init', mode: S_IFREG | 0o755, data: Buffer.from(INIT) },
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
 * `socket,id=serial0,path=/run/x.sock`.
 */
export function bootGuest(dir: string, serialChardev: string): Guest {
  const kernel = kernelImage();
  if (kernel === undefined) throw new Error('no cloud kernel installed');
  const initrd = buildInitramfs(dir);
  const child = spawn(
    'qemu-system-x86_64',
    [
      ...['-accel', 'tcg', '-cpu', 'max', '-m', '256', '-smp', '1', '-nodefaults', '-display', 'none', '-no-reboot'],
      ...['-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 quiet panic=-1'],
      ...['-chardev', serialChardev, '-serial', 'chardev:serial0'],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
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
