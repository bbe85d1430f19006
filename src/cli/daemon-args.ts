import { QemuOptsError } from '../options/qemu-opts.js';
import { parseQmpOption, type QmpOption } from '../daemon/qmp-option.js';

/** What the chardevd command line asks for. */
export type DaemonArgs =
  | { readonly action: 'run'; readonly qmp: readonly { readonly option: QmpOption; readonly pretty: boolean }[] }
  | { readonly action: 'help' }
  | { readonly action: 'version' };

/** A command-line mistake; the message is what the user sees after "chardevd: ". */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: chardevd [options]

Options (QEMU's spellings; one or two leading dashes):
  -qmp unix:PATH,server=on[,wait=off]     QMP listener on a unix socket
  -qmp tcp:[HOST]:PORT,server=on[,wait=off][,ipv4=on|ipv6=on]
                                          QMP listener on TCP (port 0: any free port)
  -qmp-pretty DEV                         the same, with multi-line replies
  -h, -help                               print this help
  -version                                print the version

Every listener serves any number of clients at once. Without wait=off,
startup waits for the first client of that listener, as QEMU does.
`;

/** Parses QEMU-style options (`-qmp X` or `--qmp X`, `--qmp=X`). */
export function parseDaemonArgs(argv: readonly string[], warn: (message: string) => void): DaemonArgs {
  const qmp: { option: QmpOption; pretty: boolean }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) throw new UsageError(`${arg}: invalid option (options start with '-')`);
    const eq = arg.indexOf('=');
    const name = (eq >= 0 ? arg.slice(0, eq) : arg).replace(/^--?/, '');
    const inlineValue = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inlineValue ?? argv[++i];
      if (v === undefined) throw new UsageError(`-${name}: requires an argument`);
      return v;
    };
    switch (name) {
      case 'h':
      case 'help':
        return { action: 'help' };
      case 'version':
        return { action: 'version' };
      case 'qmp':
      case 'qmp-pretty': {
        const text = value();
        try {
          qmp.push({ option: parseQmpOption(text, warn), pretty: name === 'qmp-pretty' });
        } catch (error: unknown) {
          if (error instanceof QemuOptsError) throw new UsageError(`-${name} ${text}: ${error.message}`);
          throw error;
        }
        break;
      }
      default:
        throw new UsageError(`-${name}: invalid option`);
    }
  }
  return { action: 'run', qmp };
}
