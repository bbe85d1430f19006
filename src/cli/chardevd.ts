#!/usr/bin/env node
/** The chardevd daemon. */
import { ChardevHelpRequest } from '../chardev/option-error.js';
import { ConfigError } from '../daemon/config.js';
import { Daemon } from '../daemon/daemon.js';
import { chardevdVersion } from '../daemon/version.js';
import { nothingToServe, parseDaemonArgs, USAGE, UsageError } from './daemon-args.js';

/**
 * A message's first line starts with the program's name, as each of
 * QEMU's error_report lines does; the hint lines after it do not, as
 * QEMU's error_append_hint lines do not ("Identifiers consist of ...",
 * "Please use server=on instead"). A later line that starts with the first
 * line's location (its text up to ': ') is another report and gets the
 * name too: "-qmp X: ...", then "-qmp X: parse error: X".
 */
const log = (message: string): void => {
  const lines = message.split('\n');
  const colon = lines[0]!.indexOf(': ');
  const location = colon < 0 ? undefined : lines[0]!.slice(0, colon + 2);
  const named = lines.map((line, i) => (i === 0 || (location !== undefined && line.startsWith(location)) ? `chardevd: ${line}` : line));
  process.stderr.write(`${named.join('\n')}\n`);
};

async function main(): Promise<number> {
  let args;
  try {
    args = parseDaemonArgs(process.argv.slice(2), log, (line) => process.stdout.write(`${line}\n`));
  } catch (error: unknown) {
    if (!(error instanceof UsageError || error instanceof ConfigError)) throw error;
    log(error.message);
    return 1;
  }
  if (args.action === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.action === 'version') {
    process.stdout.write(`chardevd version ${chardevdVersion().package.replace(/^chardevd-/, '')}\n`);
    return 0;
  }
  if (args.action === 'print') {
    process.stdout.write(args.text);
    return args.exitStatus;
  }
  const nothing = nothingToServe(args);
  if (nothing !== undefined) {
    log(nothing);
    return 1;
  }

  const daemon = new Daemon({
    objects: args.objects,
    qmp: args.qmp,
    chardevs: args.chardevs,
    devices: args.devices,
    demuxServices: args.demuxServices,
    monitors: args.monitors,
    muxEscapeChar: args.muxEscapeChar,
    configSave: args.configSave,
    web: args.web,
    log,
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      log(`terminating on signal ${process.getBuiltinModule('node:os').constants.signals[signal]}`);
      daemon.shutdown('host-signal');
    });
  }
  // A signal during startup (a socket waiting for its first client) ends
  // the daemon without waiting for startup to finish.
  const starting = daemon.start();
  starting.catch(() => undefined);
  try {
    await Promise.race([starting, daemon.stopped]);
  } catch (error: unknown) {
    if (error instanceof ChardevHelpRequest) {
      process.stdout.write(`${error.message}\n`);
      return error.exitStatus;
    }
    // A StartupChardevError reads "ORIGIN: QEMU's text"; other errors are listeners that could not open.
    log(error instanceof Error ? error.message : String(error));
    return 1;
  }
  if (args.qmp.length === 0 && args.monitors.length === 0) log('no -qmp or -monitor listener given: nothing can manage this daemon (see --help)');
  // Like QEMU, the daemon runs until it is told to stop, even when no
  // listener or socket keeps Node's event loop busy (chardevs of files or null only).
  const keepRunning = setInterval(() => {}, 1 << 30);
  await daemon.stopped;
  clearInterval(keepRunning);
  return 0;
}

// No top-level await: the daemon is bundled as a CommonJS script (scripts/bundle-programs.js).
void main().then((status) => process.exit(status));
