#!/usr/bin/env node
/** The chardevd daemon. */
import { constants } from 'node:os';
import { Daemon } from '../daemon/daemon.js';
import { chardevdVersion } from '../daemon/version.js';
import { parseDaemonArgs, USAGE, UsageError } from './daemon-args.js';

const log = (message: string): void => {
  process.stderr.write(`chardevd: ${message}\n`);
};

async function main(): Promise<number> {
  let args;
  try {
    args = parseDaemonArgs(process.argv.slice(2), log);
  } catch (error: unknown) {
    if (!(error instanceof UsageError)) throw error;
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
  if (args.qmp.length === 0) log('no -qmp listener given: nothing can manage this daemon (see --help)');

  const daemon = new Daemon({ qmp: args.qmp, log });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      log(`terminating on signal ${constants.signals[signal]}`);
      daemon.shutdown('host-signal');
    });
  }
  try {
    await daemon.start();
  } catch (error: unknown) {
    log(error instanceof Error ? error.message : String(error));
    return 1;
  }
  await daemon.stopped;
  return 0;
}

process.exit(await main());
