import { parseOnOff, parseQemuOpts, QemuOptsError, splitQemuOpts } from '../options/qemu-opts.js';
import { parseQmpOption, type QmpOption } from './qmp-option.js';

/**
 * Where a monitor runs: a human monitor listener of its own, or an
 * existing chardev with a human (`readline`) or QMP (`control`) monitor.
 */
export type MonitorTarget =
  | { readonly type: 'listener'; readonly option: QmpOption; readonly text?: string | undefined }
  | { readonly type: 'chardev'; readonly id: string; readonly mode: 'readline' | 'control'; readonly pretty: boolean };

/** A monitor as the daemon takes it (DaemonOptions.monitors). */
export interface MonitorConfig {
  /** What messages about it start with: `-monitor TEXT`, `-mon TEXT`, `FILE:LINE: hmp[N]`. */
  readonly origin: string;
  readonly target: MonitorTarget;
}

/**
 * Parses QEMU's `-monitor` value: `unix:PATH,server=on[,wait=off]` and
 * `tcp:[HOST]:PORT,server=on[,wait=off]` make a listener of chardevd's
 * own (any number of clients at once), `chardev:ID` puts the monitor on
 * a chardev created with -chardev (as QEMU's monitor_parse does).
 */
export function parseMonitorOption(text: string): MonitorTarget {
  if (text.startsWith('chardev:')) return { type: 'chardev', id: text.slice('chardev:'.length), mode: 'readline', pretty: false };
  return { type: 'listener', option: parseQmpOption(text, 'monitor') };
}

/**
 * Parses QEMU's `-mon [chardev=]ID[,mode=readline|control][,pretty=on]`
 * (monitor/monitor.c qemu_mon_opts, monitor_init), with QEMU's texts: a
 * human monitor (the default) or QMP on a chardev.
 */
export function parseMonOption(text: string): MonitorTarget {
  let chardev: string | undefined;
  let mode: string | undefined;
  let pretty = false;
  splitQemuOpts(text).forEach((part, index) => {
    // The first word without '=' is the implied option, chardev.
    const [opt] = parseQemuOpts([part]);
    const key = index === 0 && opt!.value === undefined ? 'chardev' : opt!.key;
    const value = index === 0 && opt!.value === undefined ? opt!.key : opt!.value;
    switch (key) {
      case 'chardev':
        chardev ??= value ?? '';
        break;
      case 'mode':
        mode ??= value ?? '';
        break;
      case 'pretty':
        pretty = value === undefined ? true : parseOnOff('pretty', value);
        break;
      case 'id':
        break;
      default:
        throw new QemuOptsError(`Invalid parameter '${key}'`);
    }
  });
  if (chardev === undefined) throw new QemuOptsError("Parameter 'chardev' is missing");
  if (mode !== undefined && mode !== 'readline' && mode !== 'control') throw new QemuOptsError(`Parameter 'mode' does not accept value '${mode}'`);
  if (mode === 'control') return { type: 'chardev', id: chardev, mode, pretty };
  if (pretty) throw new QemuOptsError("'pretty' is not compatible with HMP monitors");
  return { type: 'chardev', id: chardev, mode: 'readline', pretty: false };
}
